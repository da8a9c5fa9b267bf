#include "controller/base/shell_quote.h"

namespace kubabase {

std::string ShellQuote(std::string_view value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'') {
      quoted += "'\\''";  // close, an escaped quote, reopen
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace kubabase
