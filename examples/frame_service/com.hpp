// COM ownership for the frame service's Media Foundation and WIC code, and HRESULTs as text.
#pragma once

#include "win.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace frame_service::mf {

// Owns one COM reference.
template <class T>
class com_ptr {
public:
    com_ptr() = default;
    explicit com_ptr(T* adopt) noexcept : p_(adopt) {}
    com_ptr(const com_ptr& other) noexcept : p_(other.p_)
    {
        if (p_ != nullptr) {
            p_->AddRef();
        }
    }
    com_ptr(com_ptr&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    com_ptr& operator=(com_ptr other) noexcept
    {
        std::swap(p_, other.p_);
        return *this;
    }
    ~com_ptr() { reset(); }

    T* get() const noexcept { return p_; }
    T* operator->() const noexcept { return p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    void reset() noexcept
    {
        if (p_ != nullptr) {
            std::exchange(p_, nullptr)->Release();
        }
    }
    T** put() noexcept
    {
        reset();
        return &p_;
    }
    void** put_void() noexcept { return reinterpret_cast<void**>(put()); }
    template <class U>
    com_ptr<U> as() const noexcept
    {
        com_ptr<U> u;
        if (p_ != nullptr) {
            (void)p_->QueryInterface(__uuidof(U), u.put_void());
        }
        return u;
    }

private:
    T* p_ = nullptr;
};

inline std::string hresult_text(HRESULT hr)
{
    char text[16];
    std::snprintf(text, sizeof text, "0x%08lX", static_cast<unsigned long>(static_cast<std::uint32_t>(hr)));
    return text;
}

constexpr std::uint32_t hresult_bits(HRESULT hr) noexcept { return static_cast<std::uint32_t>(hr); }

} // namespace frame_service::mf
