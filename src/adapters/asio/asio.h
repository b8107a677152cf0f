// The one way to include Boost.Asio: Boost 1.74's awaitable.hpp needs <utility> under C++20.
#pragma once

#include <utility>

#include <boost/asio.hpp>
