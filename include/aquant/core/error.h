// One exception hierarchy for user-facing failures; caught once in cli/main.cpp, which maps the
// type to an exit code. The library never exits or aborts.
#pragma once

#include <stdexcept>
#include <string>

namespace aquant {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    virtual int exit_code() const { return 1; }
};

/// A model that is malformed or uses something unsupported.
class ModelError : public Error {
public:
    using Error::Error;
};

/// Data (inputs, labels, calibration sets) that is malformed or does not match the model.
class DataError : public Error {
public:
    using Error::Error;
};

/// A file that cannot be read or written.
class IoError : public Error {
public:
    using Error::Error;
};

/// Bad flags or option combinations: exit code 2, like a usage error.
class ConfigError : public Error {
public:
    using Error::Error;
    int exit_code() const override { return 2; }
};

/// A broken invariant inside aquant: a bug, never the user's fault.
class InternalError : public Error {
public:
    using Error::Error;
};

}  // namespace aquant
