#include "controller/base/clock.h"

namespace kubabase {

RealClock& RealClock::Get() {
  static RealClock* clock = new RealClock();  // never destroyed: usable during static teardown
  return *clock;
}

}  // namespace kubabase
