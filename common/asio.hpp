#pragma once
// The one place that includes Asio. Boost 1.74's Asio uses std::exchange and friends without
// including <utility> itself, so it must come first.
#include <utility>

#include <boost/asio.hpp>

namespace hookstream {
namespace asio = boost::asio;
}  // namespace hookstream
