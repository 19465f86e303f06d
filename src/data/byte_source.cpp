#include "data/util.h"

#include "aquant/data/array_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace aquant::data {
namespace {

using detail::errno_text;
using detail::fail;

void check_range(const ByteSource& s, std::uint64_t offset, std::size_t n) {
    if (offset > s.size() || n > s.size() - offset) {
        fail(s.where(), "read of " + std::to_string(n) + " bytes at offset " +
                            std::to_string(offset) + " is past the end (" +
                            std::to_string(s.size()) + " bytes)");
    }
}

class FileSource final : public ByteSource {
public:
    explicit FileSource(const std::string& path) : where_(path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0)
            throw IoError(path + ": cannot open: " + errno_text());

        struct stat st {};

        if (::fstat(fd_, &st) != 0) {
            const std::string why = errno_text();
            ::close(fd_);
            throw IoError(path + ": cannot stat: " + why);
        }
        if (S_ISDIR(st.st_mode)) {
            ::close(fd_);
            throw IoError(path + ": is a folder, expected a file");
        }
        size_ = static_cast<std::uint64_t>(st.st_size);
    }

    ~FileSource() override { ::close(fd_); }

    std::uint64_t size() const override { return size_; }

    const std::string& where() const override { return where_; }

    void read_at(std::uint64_t offset, void* dst, std::size_t n) const override {
        check_range(*this, offset, n);
        auto* out = static_cast<char*>(dst);
        while (n > 0) {
            const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                throw IoError(where_ + ": read failed: " + errno_text());
            if (got == 0)
                fail(where_, "unexpected end of file (file shrank while reading?)");
            out += got;
            offset += static_cast<std::uint64_t>(got);
            n -= static_cast<std::size_t>(got);
        }
    }

private:
    std::string where_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

class GzipSource final : public ByteSource {
public:
    explicit GzipSource(const std::string& path) : where_(path) {
        {
            // gzopen does not distinguish a missing file from other failures; open() does.
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                throw IoError(path + ": cannot open: " + errno_text());
            ::close(fd);
        }
        file_ = gzopen(path.c_str(), "rb");
        if (!file_)
            throw IoError(path + ": cannot open: " + errno_text());
        try {
            scan();
        } catch (...) {
            gzclose(file_);  // the destructor does not run when the constructor throws
            throw;
        }
    }

    ~GzipSource() override { gzclose(file_); }

    std::uint64_t size() const override { return size_; }

    const std::string& where() const override { return where_; }

    void read_at(std::uint64_t offset, void* dst, std::size_t n) const override {
        check_range(*this, offset, n);
        std::lock_guard<std::mutex> lock(mutex_);
        if (gzseek(file_, static_cast<z_off_t>(offset), SEEK_SET) < 0)
            fail_zlib("seek failed");
        auto* out = static_cast<char*>(dst);
        while (n > 0) {
            const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30));
            const int got = gzread(file_, out, chunk);
            if (got < 0)
                fail_zlib("corrupt gzip data");
            if (got == 0)
                fail(where_, "unexpected end of gzip data");
            out += got;
            n -= static_cast<std::size_t>(got);
        }
    }

private:
    // One pass to learn the size and to surface truncation or a CRC error now, not in the
    // middle of an evaluation.
    void scan() {
        gzbuffer(file_, 1 << 17);
        std::vector<char> buf(1 << 17);
        for (;;) {
            const int got = gzread(file_, buf.data(), static_cast<unsigned>(buf.size()));
            if (got < 0)
                fail_zlib("corrupt gzip data");
            if (got == 0)
                break;
            size_ += static_cast<std::uint64_t>(got);
        }
        int err = Z_OK;
        gzerror(file_, &err);
        if (err != Z_OK)
            fail_zlib("corrupt gzip data");
        gzrewind(file_);
    }

    [[noreturn]] void fail_zlib(const std::string& what) const {
        int err = Z_OK;
        const char* msg = gzerror(file_, &err);
        if (err == Z_ERRNO)
            throw IoError(where_ + ": read failed: " + errno_text());
        std::string detail = msg && *msg ? msg : "unknown zlib error";
        if (detail.rfind(where_ + ": ", 0) == 0)
            detail = detail.substr(where_.size() + 2);
        if (detail == "unexpected end of file")
            detail = "unexpected end of data (truncated .gz file)";
        fail(where_, what + ": " + detail);
    }

    std::string where_;
    gzFile file_ = nullptr;
    std::uint64_t size_ = 0;
    mutable std::mutex mutex_;
};

class SubSource final : public ByteSource {
public:
    SubSource(ByteSourcePtr parent, std::uint64_t offset, std::uint64_t size, std::string where)
        : parent_(std::move(parent)), offset_(offset), size_(size), where_(std::move(where)) {
        if (offset_ > parent_->size() || size_ > parent_->size() - offset_) {
            fail(where_, "range of " + std::to_string(size_) + " bytes at offset " +
                             std::to_string(offset_) + " is past the end of " + parent_->where() +
                             " (" + std::to_string(parent_->size()) + " bytes)");
        }
    }

    std::uint64_t size() const override { return size_; }

    const std::string& where() const override { return where_; }

    void read_at(std::uint64_t offset, void* dst, std::size_t n) const override {
        check_range(*this, offset, n);
        parent_->read_at(offset_ + offset, dst, n);
    }

private:
    ByteSourcePtr parent_;
    std::uint64_t offset_;
    std::uint64_t size_;
    std::string where_;
};

class MemorySource final : public ByteSource {
public:
    MemorySource(Tensor t, std::string bytes, std::string where)
        : tensor_(std::move(t)), bytes_(std::move(bytes)), where_(std::move(where)) {
        if (tensor_.defined()) {
            data_ = static_cast<const char*>(tensor_.raw());
            size_ = tensor_.size_bytes();
        } else {
            data_ = bytes_.data();
            size_ = bytes_.size();
        }
    }

    std::uint64_t size() const override { return size_; }

    const std::string& where() const override { return where_; }

    void read_at(std::uint64_t offset, void* dst, std::size_t n) const override {
        check_range(*this, offset, n);
        if (n)
            std::memcpy(dst, data_ + offset, n);
    }

private:
    Tensor tensor_;
    std::string bytes_;
    std::string where_;
    const char* data_ = nullptr;
    std::uint64_t size_ = 0;
};

}  // namespace

ByteSourcePtr open_file_source(const std::string& path) {
    return std::make_shared<FileSource>(path);
}

ByteSourcePtr open_gzip_source(const std::string& path) {
    return std::make_shared<GzipSource>(path);
}

ByteSourcePtr open_maybe_gzip_source(const std::string& path) {
    auto file = open_file_source(path);
    unsigned char magic[2] = {0, 0};
    if (file->size() >= 2)
        file->read_at(0, magic, 2);
    if (magic[0] == 0x1f && magic[1] == 0x8b)
        return open_gzip_source(path);
    return file;
}

ByteSourcePtr sub_source(ByteSourcePtr parent, std::uint64_t offset, std::uint64_t size,
                         std::string where) {
    return std::make_shared<SubSource>(std::move(parent), offset, size, std::move(where));
}

ByteSourcePtr memory_source(const Tensor& t, std::string where) {
    if (t.dtype() == DType::kString)
        throw InternalError("memory_source: string tensor");
    return std::make_shared<MemorySource>(t, std::string(), std::move(where));
}

ByteSourcePtr memory_source(std::string bytes, std::string where) {
    return std::make_shared<MemorySource>(Tensor(), std::move(bytes), std::move(where));
}

}  // namespace aquant::data
