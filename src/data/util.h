// Small helpers shared by the data readers (not part of the public API).
#pragma once

#include "aquant/core/error.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace aquant::data::detail {

[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
    throw DataError(where + ": " + what);
}

std::string errno_text();
std::string file_name(const std::string& path);   // "a/b/c.npy" -> "c.npy"
std::string parent_dir(const std::string& path);  // "a/b/c.npy" -> "a/b", "c.npy" -> "."
std::string join_path(const std::string& dir, const std::string& name);
bool ends_with(const std::string& s, const std::string& suffix);

/// Writes bytes to `path` through a temporary file in the same folder and a rename.
void write_file_atomic(const std::string& path, const std::string& bytes);

inline std::uint16_t load_u16le(const unsigned char* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

inline std::uint32_t load_u32le(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

inline std::uint64_t load_u64le(const unsigned char* p) {
    return static_cast<std::uint64_t>(load_u32le(p)) |
           (static_cast<std::uint64_t>(load_u32le(p + 4)) << 32);
}

inline std::uint32_t load_u32be(const unsigned char* p) {
    return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
           (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

inline void put_u16le(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
}

inline void put_u32le(std::string& out, std::uint32_t v) {
    put_u16le(out, v & 0xFFFF);
    put_u16le(out, v >> 16);
}

inline void put_u64le(std::string& out, std::uint64_t v) {
    put_u32le(out, static_cast<std::uint32_t>(v));
    put_u32le(out, static_cast<std::uint32_t>(v >> 32));
}

inline void put_u32be(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

/// Reverses the bytes of each of `count` elements of `elem_size` bytes, in place.
void byteswap_elements(void* data, std::size_t elem_size, std::size_t count);

/// a * b, or DataError naming `where` on uint64 overflow.
std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& where);

}  // namespace aquant::data::detail
