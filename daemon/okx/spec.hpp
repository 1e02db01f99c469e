// OKX v5 ("okx"): spot and swaps (and dated futures) in one venue; the instrument id says which:
// BTC-USDT is spot, BTC-USDT-SWAP a perpetual swap (docs/design.md, "Venues").
#pragma once

#include "venue/venue.hpp"

namespace mdfeed::okx {

extern const venue::Spec kSpec;

}  // namespace mdfeed::okx
