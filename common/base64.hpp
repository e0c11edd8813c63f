#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace hookstream {

// Standard base64 (RFC 4648 §4) with padding.
std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not canonical padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace hookstream
