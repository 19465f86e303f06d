#include "aquant/data/npy.h"

#include "data/util.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

namespace aquant::data {
namespace {

using detail::fail;

// numpy kind + itemsize for each supported element type (numpy/core/_dtype.py spellings).
struct NpyType {
    DType dtype;
    char kind;
    int itemsize;
};

constexpr NpyType kNpyTypes[] = {
    {DType::kF16, 'f', 2}, {DType::kF32, 'f', 4}, {DType::kF64, 'f', 8}, {DType::kI8, 'i', 1},
    {DType::kI16, 'i', 2}, {DType::kI32, 'i', 4}, {DType::kI64, 'i', 8}, {DType::kU8, 'u', 1},
    {DType::kU16, 'u', 2}, {DType::kU32, 'u', 4}, {DType::kU64, 'u', 8}, {DType::kBool, 'b', 1},
};

constexpr const char* kSupported = "<f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1 (or '>')";

// The header is a Python literal: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
struct PyValue {
    enum Kind { kStr, kInt, kBool, kNone, kTuple, kList, kDict } kind = kNone;

    std::string str;
    std::int64_t i = 0;
    bool b = false;
    std::vector<PyValue> items;
    std::vector<std::pair<std::string, PyValue>> dict;
};

class LiteralParser {
public:
    LiteralParser(const std::string& text, const std::string& where) : s_(text), where_(where) {}

    PyValue parse_top() {
        PyValue v = parse_value();
        skip_ws();
        if (pos_ != s_.size())
            error("unexpected text after the header dict");
        return v;
    }

private:
    [[noreturn]] void error(const std::string& what) const {
        fail(where_,
             "malformed .npy header (" + what + " at offset " + std::to_string(pos_) + "): " + s_);
    }

    void skip_ws() {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
            ++pos_;
    }

    bool eat(char c) {
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    PyValue parse_value() {
        skip_ws();
        if (pos_ >= s_.size())
            error("unexpected end");
        const char c = s_[pos_];
        if (c == '\'' || c == '"')
            return parse_string();
        if (c == '{')
            return parse_dict();
        if (c == '(')
            return parse_seq(')', PyValue::kTuple);
        if (c == '[')
            return parse_seq(']', PyValue::kList);
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '-')
            return parse_int();
        if (std::isalpha(static_cast<unsigned char>(c)))
            return parse_word();
        error(std::string("unexpected character '") + c + "'");
    }

    PyValue parse_string() {
        const char quote = s_[pos_++];
        PyValue v;
        v.kind = PyValue::kStr;
        while (pos_ < s_.size() && s_[pos_] != quote) {
            if (s_[pos_] == '\\' && pos_ + 1 < s_.size())
                ++pos_;
            v.str.push_back(s_[pos_++]);
        }
        if (pos_ >= s_.size())
            error("unterminated string");
        ++pos_;
        return v;
    }

    PyValue parse_int() {
        PyValue v;
        v.kind = PyValue::kInt;
        const std::size_t begin = pos_;
        if (s_[pos_] == '-')
            ++pos_;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_])))
            ++pos_;
        const std::string digits = s_.substr(begin, pos_ - begin);
        if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l'))
            ++pos_;  // Python 2 long
        try {
            v.i = std::stoll(digits);
        } catch (const std::exception&) {
            error("bad integer '" + digits + "'");
        }
        return v;
    }

    PyValue parse_word() {
        const std::size_t begin = pos_;
        while (pos_ < s_.size() && std::isalnum(static_cast<unsigned char>(s_[pos_])))
            ++pos_;
        const std::string w = s_.substr(begin, pos_ - begin);
        PyValue v;
        if (w == "True" || w == "False") {
            v.kind = PyValue::kBool;
            v.b = w == "True";
        } else if (w != "None") {
            error("unknown name '" + w + "'");
        }
        return v;
    }

    PyValue parse_seq(char close, PyValue::Kind kind) {
        ++pos_;
        PyValue v;
        v.kind = kind;
        while (!eat(close)) {
            v.items.push_back(parse_value());
            if (!eat(',')) {
                if (!eat(close))
                    error(std::string("expected ',' or '") + close + "'");
                break;
            }
        }
        return v;
    }

    PyValue parse_dict() {
        ++pos_;
        PyValue v;
        v.kind = PyValue::kDict;
        while (!eat('}')) {
            skip_ws();
            PyValue key = parse_value();
            if (key.kind != PyValue::kStr)
                error("dict key is not a string");
            if (!eat(':'))
                error("expected ':'");
            v.dict.emplace_back(key.str, parse_value());
            if (!eat(',')) {
                if (!eat('}'))
                    error("expected ',' or '}'");
                break;
            }
        }
        return v;
    }

    const std::string& s_;
    const std::string& where_;
    std::size_t pos_ = 0;
};

const PyValue* find_key(const PyValue& dict, const std::string& key) {
    for (const auto& kv : dict.dict) {
        if (kv.first == key)
            return &kv.second;
    }
    return nullptr;
}

// "<f4" -> float, little-endian. Refuses object, string, complex, datetime, structured.
void parse_descr(const PyValue& descr, const std::string& where, NpyHeader& h) {
    if (descr.kind == PyValue::kList) {
        fail(where,
             "structured dtype (a record with named fields) is not supported; save one "
             "plain numeric array per input");
    }
    if (descr.kind != PyValue::kStr)
        fail(where, "malformed .npy header: 'descr' is not a string");
    h.descr = descr.str;
    const std::string& d = descr.str;
    if (d.size() < 2)
        fail(where, "unsupported dtype '" + d + "'");
    std::size_t p = 0;
    char order = '=';
    if (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')
        order = d[p++];
    const char kind = d[p++];
    if (kind == 'O') {
        fail(where, "object arrays (dtype '" + d +
                        "') are not supported; save plain numeric "
                        "arrays (allow_pickle is never used)");
    }
    int itemsize = 0;
    try {
        std::size_t used = 0;
        itemsize = std::stoi(d.substr(p), &used);
        if (p + used != d.size())
            itemsize = 0;
    } catch (const std::exception&) {
        itemsize = 0;
    }
    for (const auto& t : kNpyTypes) {
        if (t.kind == kind && t.itemsize == itemsize) {
            h.layout.dtype = t.dtype;
            h.layout.big_endian = order == '>' && itemsize > 1;
            return;
        }
    }
    fail(where, "unsupported dtype '" + d + "'; supported: " + kSupported);
}

}  // namespace

NpyHeader read_npy_header(const ByteSource& source) {
    const std::string& where = source.where();
    unsigned char pre[12] = {};
    if (source.size() < 10)
        fail(where, "not a .npy file (only " + std::to_string(source.size()) + " bytes)");
    source.read_at(0, pre, std::min<std::uint64_t>(12, source.size()));
    if (std::memcmp(pre, "\x93NUMPY", 6) != 0)
        fail(where, "not a .npy file (bad magic)");
    NpyHeader h;
    h.major_version = pre[6];
    std::uint64_t header_len = 0;
    std::uint64_t prefix = 0;
    if (pre[6] == 1) {
        header_len = detail::load_u16le(pre + 8);
        prefix = 10;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (source.size() < 12)
            fail(where, "truncated .npy header");
        header_len = detail::load_u32le(pre + 8);
        prefix = 12;
    } else {
        fail(where, "unsupported .npy format version " + std::to_string(pre[6]) + "." +
                        std::to_string(pre[7]) + "; supported: 1.0, 2.0, 3.0");
    }
    if (prefix + header_len > source.size()) {
        fail(where, "truncated .npy header: " + std::to_string(header_len) +
                        " header bytes announced, file has " + std::to_string(source.size()));
    }
    std::string text(static_cast<std::size_t>(header_len), '\0');
    source.read_at(prefix, text.data(), text.size());
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\0')) {
        text.pop_back();
    }
    const PyValue dict = LiteralParser(text, where).parse_top();
    if (dict.kind != PyValue::kDict)
        fail(where, "malformed .npy header: not a dict: " + text);
    const PyValue* descr = find_key(dict, "descr");
    const PyValue* fortran = find_key(dict, "fortran_order");
    const PyValue* shape = find_key(dict, "shape");
    if (!descr || !fortran || !shape) {
        fail(where, "malformed .npy header: needs 'descr', 'fortran_order' and 'shape': " + text);
    }
    parse_descr(*descr, where, h);
    if (fortran->kind != PyValue::kBool)
        fail(where, "malformed .npy header: 'fortran_order'");
    h.layout.fortran_order = fortran->b;
    if (shape->kind != PyValue::kTuple)
        fail(where, "malformed .npy header: 'shape' is not a tuple");
    for (const auto& d : shape->items) {
        if (d.kind != PyValue::kInt || d.i < 0)
            fail(where, "malformed .npy header: bad 'shape'");
        h.layout.dims.push_back(d.i);
    }
    h.layout.data_offset = prefix + header_len;
    return h;
}

std::string npy_descr(DType t) {
    for (const auto& row : kNpyTypes) {
        if (row.dtype == t) {
            const char order = row.itemsize == 1 ? '|' : '<';
            return std::string(1, order) + row.kind + std::to_string(row.itemsize);
        }
    }
    throw DataError(std::string("element type ") + std::string(dtype_name(t)) +
                    " has no .npy equivalent");
}

Tensor read_npy(const std::string& path) {
    return open_npy_rows(path).read_all();
}

ArrayRowReader open_npy_rows(const std::string& path) {
    auto source = open_file_source(path);
    const NpyHeader h = read_npy_header(*source);
    return ArrayRowReader(source, h.layout);
}

std::string npy_bytes(const Tensor& t) {
    std::string dict =
        "{'descr': '" + npy_descr(t.dtype()) + "', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < t.rank(); ++i) {
        dict += std::to_string(t.dim(i));
        if (t.rank() == 1 || i + 1 < t.rank())
            dict += ",";
        if (i + 1 < t.rank())
            dict += " ";
    }
    dict += "), }";
    // Pad with spaces and end with '\n' so the data starts at a multiple of 64 bytes.
    int version = 1;
    std::size_t prefix = 10;
    auto padded = [&] {
        std::size_t total = prefix + dict.size() + 1;
        return dict + std::string((64 - total % 64) % 64, ' ') + "\n";
    };
    std::string header = padded();
    if (header.size() > 65535) {
        version = 2;
        prefix = 12;
        header = padded();
    }
    std::string out("\x93NUMPY", 6);
    out.push_back(static_cast<char>(version));
    out.push_back(0);
    if (version == 1) {
        detail::put_u16le(out, static_cast<std::uint32_t>(header.size()));
    } else {
        detail::put_u32le(out, static_cast<std::uint32_t>(header.size()));
    }
    out += header;
    out.append(static_cast<const char*>(t.raw()), t.size_bytes());
    return out;
}

void write_npy(const Tensor& t, const std::string& path) {
    std::string bytes;
    try {
        bytes = npy_bytes(t);
    } catch (const DataError& e) {
        throw DataError(path + ": " + e.what());
    }
    detail::write_file_atomic(path, bytes);
}

}  // namespace aquant::data
