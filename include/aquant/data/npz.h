// NumPy .npz archives: a zip file with one .npy member per array ("x.npy" holds array "x").
// Members may be stored (np.savez) or deflated (np.savez_compressed); zip64 records are read.
// Encrypted members and other compression methods are refused with a DataError.
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/data/array_reader.h"
#include "aquant/data/npy.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace aquant::data {

class NpzArchive {
public:
    /// Reads the zip central directory. IoError for a missing file, DataError for a file that is
    /// not a zip archive or has a malformed directory.
    explicit NpzArchive(const std::string& path);
    ~NpzArchive();
    NpzArchive(NpzArchive&&) noexcept;
    NpzArchive& operator=(NpzArchive&&) noexcept;

    const std::string& path() const;
    /// Array names (member names without ".npy"), in archive order.
    std::vector<std::string> names() const;
    bool contains(const std::string& name) const;
    /// "a, b, labels": for messages.
    std::string names_str() const;

    /// The whole array, CRC-checked. DataError naming the archive and listing its arrays when
    /// `name` is absent.
    Tensor read(const std::string& name) const;
    NpyHeader header(const std::string& name) const;
    /// Streaming rows: stored members are read in place with file offsets; deflated members are
    /// inflated sequentially (a read before the last position restarts the member).
    ArrayRowReader rows(const std::string& name) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct NpzWriteOptions {
    bool compress = false;     // deflate (np.savez_compressed) instead of store (np.savez)
    bool force_zip64 = false;  // zip64 records even when sizes fit in 32 bits
};

/// Writes an .npz atomically. Zip64 records are used automatically when an array or the
/// archive exceeds 4 GiB.
void write_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays,
               const NpzWriteOptions& options = {});

}  // namespace aquant::data
