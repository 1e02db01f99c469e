// The Binance spot adapter: what the registry (daemon/adapter/adapter.cpp) lists as "binance".
#pragma once

#include "adapter/adapter.hpp"

namespace mdfeed::binance {

extern const adapter::Adapter kAdapter;

}  // namespace mdfeed::binance
