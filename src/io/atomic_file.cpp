#include "io/atomic_file.h"

#include "aquant/core/error.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace aquant::io::detail {
namespace {

std::atomic<unsigned> g_counter{0};

[[noreturn]] void io_fail(const std::string& path, const std::string& what) {
    throw IoError("cannot write '" + path + "': " + what + ": " + std::strerror(errno));
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    tmp_ = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(g_counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) {
        io_fail(path_, "cannot create temporary file '" + tmp_ + "'");
    }
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    if (!committed_) {
        ::unlink(tmp_.c_str());
    }
}

void AtomicFile::write(const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t w = ::write(fd_, p, std::min<std::size_t>(size, std::size_t{1} << 30));
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            io_fail(path_, "write failed");
        }
        p += w;
        size -= static_cast<std::size_t>(w);
    }
}

void AtomicFile::write_zeros(std::size_t size) {
    static const char kZeros[4096] = {};
    while (size > 0) {
        const std::size_t n = std::min(size, sizeof(kZeros));
        write(kZeros, n);
        size -= n;
    }
}

void AtomicFile::commit(bool sync) {
    if (sync && ::fsync(fd_) != 0) {
        io_fail(path_, "fsync failed");
    }
    if (::close(fd_) != 0) {
        fd_ = -1;
        io_fail(path_, "close failed");
    }
    fd_ = -1;
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
        io_fail(path_, "rename failed");
    }
    committed_ = true;
    if (sync) {
        const std::string dir = std::filesystem::path(path_).parent_path().string();
        const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            ::fsync(dfd);
            ::close(dfd);
        }
    }
}

}  // namespace aquant::io::detail
