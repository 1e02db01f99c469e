// The Binance captures in fixtures/binance/; the loader is shared by every venue
// (venue/test/capture.hpp). Used by the unit tests and bench/parse.
#pragma once

#include "binance/messages.hpp"
#include "venue/test/capture.hpp"

namespace mdfeed::testing {

inline const char* const kCaptureFiles[] = {
    "binance/BINANCE.ws.1.0",
    "binance/BINANCE_US.ws.1.0",
    "binance/BINANCE_FUTURES.ws.1.0",
    "binance/BINANCE_DELIVERY.ws.1.0",
};

}  // namespace mdfeed::testing
