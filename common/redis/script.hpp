#pragma once
// A Lua script run with EVALSHA, falling back to EVAL when the server does not know it yet
// (NOSCRIPT: after a restart, a failover or SCRIPT FLUSH). See Client::eval_script.
#include <string>

namespace hookstream::redis {

class Script {
 public:
  explicit Script(std::string source);

  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }  // lowercase hex, as EVALSHA wants it

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace hookstream::redis
