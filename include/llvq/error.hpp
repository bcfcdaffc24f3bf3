// Error type for bad input: anything the user or a file on disk got wrong. The CLI turns it
// (and any other std::exception) into a one-line message on stderr and exit code 2.
#pragma once

#include <stdexcept>
#include <string>

namespace llvq {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace llvq
