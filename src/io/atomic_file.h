// Atomic file replacement: write to a temporary file in the destination's folder, then rename.
// Private to src/io/.
#pragma once

#include <cstddef>
#include <string>

namespace aquant::io::detail {

class AtomicFile {
public:
    /// Creates `<path>.tmp-<pid>-<n>` next to `path`; throws IoError naming `path`.
    explicit AtomicFile(std::string path);
    ~AtomicFile();  // removes the temporary file unless committed
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    int fd() const { return fd_; }

    const std::string& path() const { return path_; }

    void write(const void* data, std::size_t size);
    void write_zeros(std::size_t size);
    /// Flushes (fsync when `sync`), closes and renames over `path`.
    void commit(bool sync);

private:
    std::string path_;
    std::string tmp_;
    int fd_ = -1;
    bool committed_ = false;
};

}  // namespace aquant::io::detail
