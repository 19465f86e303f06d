#include "data/zip.h"

#include "data/util.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>
#include <zlib.h>

namespace aquant::data::detail {
namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kEnd64Sig = 0x06064b50;
constexpr std::uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint32_t kMax32 = 0xFFFFFFFFu;
constexpr std::uint16_t kMax16 = 0xFFFFu;
constexpr std::uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: reproducible

std::vector<unsigned char> read_bytes(const ByteSource& s, std::uint64_t offset, std::size_t n) {
    std::vector<unsigned char> b(n);
    s.read_at(offset, b.data(), n);
    return b;
}

// Fills the fields the central directory marks as 0xFFFFFFFF from the zip64 extra field.
void apply_zip64_extra(const unsigned char* extra, std::size_t len, ZipEntry& e, bool need_size,
                       bool need_csize, bool need_offset, const std::string& where) {
    std::size_t p = 0;
    while (p + 4 <= len) {
        const std::uint16_t id = load_u16le(extra + p);
        const std::uint16_t sz = load_u16le(extra + p + 2);
        if (p + 4 + sz > len)
            break;
        if (id == kZip64ExtraId) {
            const unsigned char* q = extra + p + 4;
            std::size_t left = sz;
            auto take = [&](std::uint64_t& field) {
                if (left < 8)
                    fail(where, "malformed zip64 extra field for '" + e.name + "'");
                field = load_u64le(q);
                q += 8;
                left -= 8;
            };
            if (need_size)
                take(e.size);
            if (need_csize)
                take(e.compressed_size);
            if (need_offset)
                take(e.local_header_offset);
            return;
        }
        p += 4 + sz;
    }
    if (need_size || need_csize || need_offset) {
        fail(where, "zip entry '" + e.name + "' needs a zip64 extra field, none found");
    }
}

class InflateSource final : public ByteSource {
public:
    InflateSource(ByteSourcePtr file, std::uint64_t data_offset, const ZipEntry& e,
                  std::string where)
        : file_(std::move(file)),
          data_offset_(data_offset),
          entry_(e),
          where_(std::move(where)),
          in_(1 << 16),
          scratch_(1 << 16) {
        if (data_offset_ > file_->size() || entry_.compressed_size > file_->size() - data_offset_) {
            fail(where_, "compressed data (" + std::to_string(entry_.compressed_size) +
                             " bytes) runs past the end of the archive (truncated file)");
        }
        std::memset(&zs_, 0, sizeof(zs_));
        if (inflateInit2(&zs_, -MAX_WBITS) != Z_OK)
            throw InternalError("inflateInit2 failed");
    }

    ~InflateSource() override { inflateEnd(&zs_); }

    std::uint64_t size() const override { return entry_.size; }

    const std::string& where() const override { return where_; }

    void read_at(std::uint64_t offset, void* dst, std::size_t n) const override {
        if (offset > entry_.size || n > entry_.size - offset) {
            fail(where_, "read past the end of the member");
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (offset < out_pos_)
            restart();
        while (out_pos_ < offset) {
            produce(scratch_.data(), std::min<std::uint64_t>(scratch_.size(), offset - out_pos_));
        }
        produce(static_cast<unsigned char*>(dst), n);
    }

private:
    void restart() const {
        inflateReset(&zs_);
        zs_.avail_in = 0;
        in_pos_ = 0;
        out_pos_ = 0;
        crc_ = crc32(0L, Z_NULL, 0);
    }

    void produce(unsigned char* dst, std::size_t n) const {
        std::size_t done = 0;
        while (done < n) {
            if (zs_.avail_in == 0 && in_pos_ < entry_.compressed_size) {
                const std::size_t chunk =
                    std::min<std::uint64_t>(in_.size(), entry_.compressed_size - in_pos_);
                file_->read_at(data_offset_ + in_pos_, in_.data(), chunk);
                in_pos_ += chunk;
                zs_.next_in = in_.data();
                zs_.avail_in = static_cast<uInt>(chunk);
            }
            const std::size_t want = std::min<std::size_t>(n - done, 1u << 30);
            zs_.next_out = dst + done;
            zs_.avail_out = static_cast<uInt>(want);
            const int ret = inflate(&zs_, Z_NO_FLUSH);
            const std::size_t got = want - zs_.avail_out;
            done += got;
            if (ret == Z_STREAM_END && done < n) {
                fail(where_, "deflate stream ends after " + std::to_string(out_pos_ + done) +
                                 " bytes, the directory says " + std::to_string(entry_.size));
            }
            if (ret == Z_BUF_ERROR && got == 0 && in_pos_ >= entry_.compressed_size) {
                fail(where_, "deflate stream is truncated");
            }
            if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
                fail(where_, std::string("corrupt deflate data: ") + (zs_.msg ? zs_.msg : "?"));
            }
        }
        crc_ = crc32(crc_, dst, static_cast<uInt>(n));
        out_pos_ += n;
        if (out_pos_ == entry_.size && crc_ != entry_.crc32) {
            fail(where_, "CRC-32 mismatch (corrupt archive)");
        }
    }

    ByteSourcePtr file_;
    std::uint64_t data_offset_;
    ZipEntry entry_;
    std::string where_;
    mutable std::mutex mutex_;
    mutable z_stream zs_;
    mutable std::vector<unsigned char> in_;
    mutable std::vector<unsigned char> scratch_;
    mutable std::uint64_t in_pos_ = 0;
    mutable std::uint64_t out_pos_ = 0;
    mutable uLong crc_ = crc32(0L, Z_NULL, 0);
};

std::string deflate_raw(const std::string& data) {
    z_stream zs;
    std::memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw InternalError("deflateInit2 failed");
    }
    std::string out;
    std::size_t in_done = 0;
    int ret = Z_OK;
    std::vector<unsigned char> buf(1 << 16);
    while (ret != Z_STREAM_END) {
        const std::size_t chunk = std::min<std::size_t>(data.size() - in_done, 1u << 30);
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_done));
        zs.avail_in = static_cast<uInt>(chunk);
        const bool last = in_done + chunk == data.size();
        do {
            zs.next_out = buf.data();
            zs.avail_out = static_cast<uInt>(buf.size());
            ret = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
            out.append(reinterpret_cast<char*>(buf.data()), buf.size() - zs.avail_out);
        } while (zs.avail_out == 0);
        in_done += chunk - zs.avail_in;
    }
    deflateEnd(&zs);
    return out;
}

std::uint32_t crc_of(const std::string& data) {
    uLong crc = crc32(0L, Z_NULL, 0);
    std::size_t done = 0;
    while (done < data.size()) {
        const std::size_t chunk = std::min<std::size_t>(data.size() - done, 1u << 30);
        crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + done),
                    static_cast<uInt>(chunk));
        done += chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

}  // namespace

std::vector<ZipEntry> read_zip_directory(const ByteSource& file) {
    const std::string& where = file.where();
    const std::uint64_t size = file.size();
    if (size < 22)
        fail(where, "not a zip archive (too short for an end-of-directory record)");
    const std::uint64_t tail_len = std::min<std::uint64_t>(size, 22 + 65535);
    const std::uint64_t tail_start = size - tail_len;
    const auto tail = read_bytes(file, tail_start, static_cast<std::size_t>(tail_len));
    std::int64_t eocd = -1;
    for (std::int64_t p = static_cast<std::int64_t>(tail_len) - 22; p >= 0; --p) {
        if (load_u32le(&tail[p]) == kEndSig &&
            p + 22 + load_u16le(&tail[p + 20]) <= static_cast<std::int64_t>(tail_len)) {
            eocd = p;
            break;
        }
    }
    if (eocd < 0)
        fail(where, "not a zip archive (no end-of-central-directory record)");
    const unsigned char* e = &tail[eocd];
    std::uint64_t entries = load_u16le(e + 10);
    std::uint64_t cd_size = load_u32le(e + 12);
    std::uint64_t cd_offset = load_u32le(e + 16);
    const std::uint64_t eocd_abs = tail_start + static_cast<std::uint64_t>(eocd);
    if (eocd_abs >= 20) {
        const auto loc = read_bytes(file, eocd_abs - 20, 20);
        if (load_u32le(loc.data()) == kEnd64LocatorSig) {
            const std::uint64_t e64_off = load_u64le(&loc[8]);
            if (e64_off > size || size - e64_off < 56)
                fail(where, "bad zip64 end record offset");
            const auto e64 = read_bytes(file, e64_off, 56);
            if (load_u32le(e64.data()) != kEnd64Sig)
                fail(where, "bad zip64 end record");
            entries = load_u64le(&e64[32]);
            cd_size = load_u64le(&e64[40]);
            cd_offset = load_u64le(&e64[48]);
        }
    }
    if (cd_offset > size || cd_size > size - cd_offset) {
        fail(where, "central directory runs past the end of the file (truncated archive?)");
    }
    const auto cd = read_bytes(file, cd_offset, static_cast<std::size_t>(cd_size));
    std::vector<ZipEntry> out;
    std::size_t p = 0;
    for (std::uint64_t i = 0; i < entries; ++i) {
        if (p + 46 > cd.size() || load_u32le(&cd[p]) != kCentralSig) {
            fail(where, "malformed zip central directory at entry " + std::to_string(i));
        }
        const unsigned char* h = &cd[p];
        ZipEntry z;
        z.flags = load_u16le(h + 8);
        z.method = load_u16le(h + 10);
        z.crc32 = load_u32le(h + 16);
        z.compressed_size = load_u32le(h + 20);
        z.size = load_u32le(h + 24);
        const std::size_t name_len = load_u16le(h + 28);
        const std::size_t extra_len = load_u16le(h + 30);
        const std::size_t comment_len = load_u16le(h + 32);
        z.local_header_offset = load_u32le(h + 42);
        if (p + 46 + name_len + extra_len + comment_len > cd.size()) {
            fail(where, "malformed zip central directory at entry " + std::to_string(i));
        }
        z.name.assign(reinterpret_cast<const char*>(h + 46), name_len);
        apply_zip64_extra(h + 46 + name_len, extra_len, z, z.size == kMax32,
                          z.compressed_size == kMax32, z.local_header_offset == kMax32, where);
        out.push_back(std::move(z));
        p += 46 + name_len + extra_len + comment_len;
    }
    return out;
}

ByteSourcePtr zip_member_source(const ByteSourcePtr& file, const ZipEntry& entry,
                                const std::string& where) {
    if (entry.flags & 1)
        fail(where, "encrypted zip members are not supported");
    if (entry.local_header_offset > file->size() || file->size() - entry.local_header_offset < 30) {
        fail(where, "local header is past the end of the archive (truncated file)");
    }
    const auto lh = read_bytes(*file, entry.local_header_offset, 30);
    if (load_u32le(lh.data()) != kLocalSig)
        fail(where, "bad zip local header signature");
    const std::uint64_t data_offset =
        entry.local_header_offset + 30 + load_u16le(&lh[26]) + load_u16le(&lh[28]);
    if (entry.method == kZipStored) {
        if (entry.compressed_size != entry.size)
            fail(where, "stored member with two sizes");
        return sub_source(file, data_offset, entry.size, where);
    }
    if (entry.method == kZipDeflated) {
        return std::make_shared<InflateSource>(file, data_offset, entry, where);
    }
    fail(where, "compression method " + std::to_string(entry.method) +
                    " is not supported (stored and deflated are)");
}

std::string zip_bytes(const std::vector<std::pair<std::string, std::string>>& members,
                      bool compress, bool force_zip64) {
    std::string out;
    std::string central;
    bool any64 = force_zip64;
    for (const auto& [name, data] : members) {
        const std::string body = compress ? deflate_raw(data) : data;
        const std::uint32_t crc = crc_of(data);
        const std::uint64_t offset = out.size();
        const bool z64 =
            force_zip64 || data.size() >= kMax32 || body.size() >= kMax32 || offset >= kMax32;
        any64 = any64 || z64;
        const std::uint16_t method = compress ? kZipDeflated : kZipStored;
        const std::uint16_t version = z64 ? 45 : 20;
        std::string local_extra;
        if (z64) {
            put_u16le(local_extra, kZip64ExtraId);
            put_u16le(local_extra, 16);
            put_u64le(local_extra, data.size());
            put_u64le(local_extra, body.size());
        }
        put_u32le(out, kLocalSig);
        put_u16le(out, version);
        put_u16le(out, 0);
        put_u16le(out, method);
        put_u16le(out, 0);
        put_u16le(out, kDosDate1980);
        put_u32le(out, crc);
        put_u32le(out, z64 ? kMax32 : static_cast<std::uint32_t>(body.size()));
        put_u32le(out, z64 ? kMax32 : static_cast<std::uint32_t>(data.size()));
        put_u16le(out, static_cast<std::uint32_t>(name.size()));
        put_u16le(out, static_cast<std::uint32_t>(local_extra.size()));
        out += name;
        out += local_extra;
        out += body;

        std::string central_extra;
        if (z64) {
            put_u16le(central_extra, kZip64ExtraId);
            put_u16le(central_extra, 24);
            put_u64le(central_extra, data.size());
            put_u64le(central_extra, body.size());
            put_u64le(central_extra, offset);
        }
        put_u32le(central, kCentralSig);
        put_u16le(central, version);
        put_u16le(central, version);
        put_u16le(central, 0);
        put_u16le(central, method);
        put_u16le(central, 0);
        put_u16le(central, kDosDate1980);
        put_u32le(central, crc);
        put_u32le(central, z64 ? kMax32 : static_cast<std::uint32_t>(body.size()));
        put_u32le(central, z64 ? kMax32 : static_cast<std::uint32_t>(data.size()));
        put_u16le(central, static_cast<std::uint32_t>(name.size()));
        put_u16le(central, static_cast<std::uint32_t>(central_extra.size()));
        put_u16le(central, 0);  // comment
        put_u16le(central, 0);  // disk
        put_u16le(central, 0);  // internal attributes
        put_u32le(central, 0644u << 16);
        put_u32le(central, z64 ? kMax32 : static_cast<std::uint32_t>(offset));
        central += name;
        central += central_extra;
    }
    const std::uint64_t cd_offset = out.size();
    out += central;
    const std::uint64_t n = members.size();
    any64 = any64 || n >= kMax16 || cd_offset >= kMax32 || central.size() >= kMax32;
    if (any64) {
        const std::uint64_t e64_offset = out.size();
        put_u32le(out, kEnd64Sig);
        put_u64le(out, 44);
        put_u16le(out, 45);
        put_u16le(out, 45);
        put_u32le(out, 0);
        put_u32le(out, 0);
        put_u64le(out, n);
        put_u64le(out, n);
        put_u64le(out, central.size());
        put_u64le(out, cd_offset);
        put_u32le(out, kEnd64LocatorSig);
        put_u32le(out, 0);
        put_u64le(out, e64_offset);
        put_u32le(out, 1);
    }
    put_u32le(out, kEndSig);
    put_u16le(out, 0);
    put_u16le(out, 0);
    put_u16le(out, any64 ? kMax16 : static_cast<std::uint32_t>(n));
    put_u16le(out, any64 ? kMax16 : static_cast<std::uint32_t>(n));
    put_u32le(out, any64 ? kMax32 : static_cast<std::uint32_t>(central.size()));
    put_u32le(out, any64 ? kMax32 : static_cast<std::uint32_t>(cd_offset));
    put_u16le(out, 0);
    return out;
}

}  // namespace aquant::data::detail
