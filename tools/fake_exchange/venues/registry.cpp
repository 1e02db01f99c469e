// The venue registry: every protocol the fake exchange serves on its one port. Adding a venue
// is one file in venues/ plus one line here.
#include "fake_exchange/venues/binance.hpp"
#include "fake_exchange/venues/bybit.hpp"
#include "fake_exchange/venues/okx.hpp"

namespace mdfeed::fake {

VenueList make_venues(const Options& o) {
  VenueList v;
  // Routing order: the first venue that owns a path serves it. OKX's /ws/v5/... must come
  // before Binance spot's raw /ws/<streams>.
  v.push_back(make_okx(o));
  v.push_back(make_bybit(o));
  v.push_back(make_binance_usdm(o));
  v.push_back(make_binance_spot(o));
  return v;
}

}  // namespace mdfeed::fake
