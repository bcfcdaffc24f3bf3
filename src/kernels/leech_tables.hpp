// Builds the decode tables of leech_block.hpp (the split word) for a Leech-ball codec.
#pragma once

#include <memory>

#include "llvq/kernel_layout.hpp"
#include "kernels/leech_block.hpp"

namespace llvq::kernels::leech {

// InputError when the codec's ball does not fit the split word (more classes than class ids,
// or more than 64 bits of fields) — not the case for any ball up to LeechBall::kMaxShell at
// 2 bits per weight, which the test checks.
std::unique_ptr<BlockTables> make_block_tables(const LeechLayout& params);

}  // namespace llvq::kernels::leech
