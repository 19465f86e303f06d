// Minimal zip reading and writing for .npz (PKWARE APPNOTE 6.3: local headers, central
// directory, end record, zip64 end record and extra field 0x0001).
#pragma once

#include "aquant/data/array_reader.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace aquant::data::detail {

struct ZipEntry {
    std::string name;
    std::uint16_t method = 0;  // 0 stored, 8 deflated
    std::uint16_t flags = 0;
    std::uint32_t crc32 = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t size = 0;
    std::uint64_t local_header_offset = 0;
};

constexpr std::uint16_t kZipStored = 0;
constexpr std::uint16_t kZipDeflated = 8;

/// Central directory entries in order. DataError naming file.where() when it is not a zip.
std::vector<ZipEntry> read_zip_directory(const ByteSource& file);

/// The member's uncompressed bytes as a source: a slice of the file when stored, an inflating
/// source when deflated (CRC checked whenever the stream is read to its end).
ByteSourcePtr zip_member_source(const ByteSourcePtr& file, const ZipEntry& entry,
                                const std::string& where);

/// A zip archive holding `members` (name, bytes) in order.
std::string zip_bytes(const std::vector<std::pair<std::string, std::string>>& members,
                      bool compress, bool force_zip64);

}  // namespace aquant::data::detail
