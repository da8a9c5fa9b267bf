// ShellQuote: a value as one POSIX shell word, single-quoted, so that `eval` or `sh -c` sees
// exactly the value whatever it holds (spaces, $, `, ", and ' itself as '\'').
//
//   ShellQuote("it's")   // -> 'it'\''s'
//
// Used where we write shell text: the plugin's `keys -o env` and the tests that run commands.
#pragma once

#include <string>
#include <string_view>

namespace kubabase {

std::string ShellQuote(std::string_view value);

}  // namespace kubabase
