// winmmf/security.hpp - security descriptors for the kernel objects winmmf creates.
//
// A security_descriptor owns a self-relative descriptor built from SDDL or from a preset, and
// hands out the SECURITY_ATTRIBUTES* that create_options::security_attributes takes. Every
// kernel object winmmf creates for a mapping (the section, its notification events, a kernel
// mutex) reads that one field, so one descriptor protects them all; the presets use generic
// rights for that reason (see sddl.hpp).
//
//   auto sd = winmmf::security_descriptor::from_preset(
//       winmmf::security_preset::service_writes_users_read);
//   auto frames = winmmf::memory_mapped_file::create(
//       winmmf::global("cam0"), size, {.security_attributes = sd.attributes()});
//
// The descriptor is read when the object is created; keep the security_descriptor alive until
// then. Moving it is fine: attributes() stays the same pointer.
#pragma once

#include <winmmf/detail/token.hpp>
#include <winmmf/detail/utf.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/sddl.hpp>

#include <sddl.h>

#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace winmmf {

class security_descriptor {
public:
    // Empty: attributes() is null, which gives the creator's default descriptor.
    security_descriptor() noexcept = default;

    // ---- from SDDL -------------------------------------------------------------------------

    // Any SDDL that ConvertStringSecurityDescriptorToSecurityDescriptorW accepts, e.g.
    // "D:P(A;;GA;;;SY)(A;;GR;;;AU)". Malformed SDDL fails with that function's error
    // (ERROR_INVALID_PARAMETER, ERROR_INVALID_ACL, ERROR_INVALID_SID, ...).
    static security_descriptor from_sddl(std::wstring_view sddl, std::error_code& ec) noexcept
    {
        security_descriptor result;
        WINMMF_TRY {
            const std::wstring text(sddl); // the API needs a terminator
            if (text.find(L'\0') != std::wstring::npos) {
                ec = detail::win32_error(ERROR_INVALID_PARAMETER);
                return result;
            }
            result.assign(text.c_str(), ec);
        } WINMMF_CATCH(const std::bad_alloc&) {
            ec = std::make_error_code(std::errc::not_enough_memory);
        }
        return result;
    }
    // UTF-8 (SDDL is ASCII apart from account names in rare forms).
    static security_descriptor from_sddl(std::string_view sddl, std::error_code& ec) noexcept
    {
        WINMMF_TRY {
            std::wstring wide;
            if (!detail::utf::append_utf16(sddl, wide)) {
                ec = detail::win32_error(ERROR_NO_UNICODE_TRANSLATION);
                return {};
            }
            return from_sddl(std::wstring_view(wide), ec);
        } WINMMF_CATCH(const std::bad_alloc&) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return {};
        }
    }
#if WINMMF_EXCEPTIONS
    static security_descriptor from_sddl(std::wstring_view sddl)
    {
        std::error_code ec;
        auto sd = from_sddl(sddl, ec);
        detail::throw_if(ec, "winmmf: security descriptor from SDDL");
        return sd;
    }
    static security_descriptor from_sddl(std::string_view sddl)
    {
        std::error_code ec;
        auto sd = from_sddl(sddl, ec);
        detail::throw_if(ec, "winmmf: security descriptor from SDDL");
        return sd;
    }
#endif
    // String literals and std::string pick the UTF-8 overloads without ambiguity.
    static security_descriptor from_sddl(const char* sddl, std::error_code& ec) noexcept
    {
        return from_sddl(std::string_view(sddl), ec);
    }
    static security_descriptor from_sddl(const wchar_t* sddl, std::error_code& ec) noexcept
    {
        return from_sddl(std::wstring_view(sddl), ec);
    }
#if WINMMF_EXCEPTIONS
    static security_descriptor from_sddl(const char* sddl) { return from_sddl(std::string_view(sddl)); }
    static security_descriptor from_sddl(const wchar_t* sddl) { return from_sddl(std::wstring_view(sddl)); }
#endif

    // ---- from a preset ---------------------------------------------------------------------

    // `preset` for the account this code runs as (the effective token's user): see
    // preset_sddl() for the exact SDDL.
    static security_descriptor from_preset(security_preset preset, integrity_label label,
                                           std::error_code& ec) noexcept
    {
        const std::string creator = detail::token_user_sid(ec);
        if (ec) {
            return {};
        }
        return from_preset_for(preset, creator, label, ec);
    }
    static security_descriptor from_preset(security_preset preset, std::error_code& ec) noexcept
    {
        return from_preset(preset, integrity_label::none, ec);
    }
#if WINMMF_EXCEPTIONS
    static security_descriptor from_preset(security_preset preset,
                                           integrity_label label = integrity_label::none)
    {
        std::error_code ec;
        auto sd = from_preset(preset, label, ec);
        detail::throw_if(ec, "winmmf: security descriptor from preset");
        return sd;
    }
#endif

    // `preset` as if `creator_sid` ("S-1-5-18" for SYSTEM) were creating: for tools that set
    // up an object on another account's behalf, and for tests.
    static security_descriptor from_preset_for(security_preset preset, std::string_view creator_sid,
                                               integrity_label label, std::error_code& ec) noexcept
    {
        WINMMF_TRY {
            const std::string sddl = preset_sddl(preset, creator_sid, label);
            if (sddl.empty()) {
                ec = detail::win32_error(ERROR_INVALID_SID);
                return {};
            }
            return from_sddl(std::string_view(sddl), ec);
        } WINMMF_CATCH(const std::bad_alloc&) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return {};
        }
    }
#if WINMMF_EXCEPTIONS
    static security_descriptor from_preset_for(security_preset preset, std::string_view creator_sid,
                                               integrity_label label = integrity_label::none)
    {
        std::error_code ec;
        auto sd = from_preset_for(preset, creator_sid, label, ec);
        detail::throw_if(ec, "winmmf: security descriptor from preset");
        return sd;
    }
#endif

    // ---- using it --------------------------------------------------------------------------

    // For create_options::security_attributes, CreateEventW, CreateMutexW: null when empty.
    // Handles are not inheritable. Valid as long as this object (or the one it moves to) lives.
    SECURITY_ATTRIBUTES* attributes() const noexcept { return attributes_.get(); }
    PSECURITY_DESCRIPTOR native_handle() const noexcept { return descriptor_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(descriptor_); }

    // The descriptor back as SDDL (owner, group, DACL and label), for logs and diagnostics.
    std::wstring to_sddl(std::error_code& ec) const
    {
        if (!descriptor_) {
            ec.clear();
            return {};
        }
        return detail::descriptor_to_sddl(descriptor_.get(), ec);
    }
#if WINMMF_EXCEPTIONS
    std::wstring to_sddl() const
    {
        std::error_code ec;
        std::wstring sddl = to_sddl(ec);
        detail::throw_if(ec, "winmmf: security descriptor to SDDL");
        return sddl;
    }
#endif

private:
    void assign(const wchar_t* sddl, std::error_code& ec) noexcept
    {
        detail::unique_local<void> descriptor = detail::descriptor_from_sddl(sddl, ec); // freed on every path
        if (ec) {
            return;
        }
        std::unique_ptr<SECURITY_ATTRIBUTES> attributes(new (std::nothrow) SECURITY_ATTRIBUTES{});
        if (!attributes) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return;
        }
        attributes->nLength = sizeof(SECURITY_ATTRIBUTES);
        attributes->lpSecurityDescriptor = descriptor.get();
        attributes->bInheritHandle = FALSE;
        descriptor_ = std::move(descriptor);
        attributes_ = std::move(attributes);
        ec.clear();
    }

    // Declared in this order so that the attributes, which point into the descriptor, go first.
    detail::unique_local<void> descriptor_;
    std::unique_ptr<SECURITY_ATTRIBUTES> attributes_;
};

} // namespace winmmf
