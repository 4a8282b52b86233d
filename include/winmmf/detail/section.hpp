// winmmf/detail/section.hpp - the one open-and-initialise layer: every named section winmmf
// creates or opens (a mapping of any lock policy, a frame channel, its notification sibling, a
// notification) comes through here.
//
//   open_section()      CreateFileMappingW / OpenFileMappingW and MapViewOfFile, for one of the
//                       three open modes; an existing section's view is checked to be committed
//                       (a squatter's SEC_RESERVE section would fault at the first read) and
//                       measured
//   establish_layout()  protocol/section.hpp's handshake on the view: the creation steps on a
//                       section this process created, the wait for ready (and the takeover from
//                       a creator that is certainly gone) on one it opened
//   object owners       who owns an existing object, compared with who owns the objects this
//                       process creates: how a takeover refuses a section a co-tenant created
//                       first under our name, and how derived objects are verified
//   random_nonce()      unpredictable names for derived objects (docs/explanation/trust-model.md)
#pragma once

#include <winmmf/detail/process.hpp>
#include <winmmf/detail/section_errors.hpp>
#include <winmmf/detail/token.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/name.hpp>
#include <winmmf/protocol/page.hpp>
#include <winmmf/protocol/section.hpp>
#include <winmmf/protocol/win32_rules.hpp>

#include <aclapi.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <utility>

namespace winmmf::detail {

enum class open_mode : std::uint8_t { create_only, open_only, open_or_create };

// ---- the view's pages ----------------------------------------------------------------------------

// The length of the view at `base`, checked region by region to be committed and readable
// (protocol::check_view_regions). A view winmmf maps is one region; a section of a stranger's
// may be reserved only, or committed in pieces: errc::uncommitted_view.
inline std::size_t committed_view_size(const std::byte* base, std::error_code& ec) noexcept
{
    std::array<protocol::region_facts, 16> regions{};
    std::size_t count = 0;
    const std::byte* at = base;
    for (;;) {
        MEMORY_BASIC_INFORMATION info{};
        if (::VirtualQuery(at, &info, sizeof info) == 0) {
            if (count == 0) {
                ec = last_error();
                return 0;
            }
            break;
        }
        if (info.AllocationBase != base) {
            break; // the next allocation: the view ended
        }
        if (count == regions.size()) {
            ec = make_error_code(errc::uncommitted_view); // fragmented: not a view winmmf made
            return 0;
        }
        regions[count++] = {static_cast<std::uint32_t>(info.State), static_cast<std::uint32_t>(info.Protect),
                            static_cast<std::uint64_t>(info.RegionSize)};
        at = static_cast<const std::byte*>(info.BaseAddress) + info.RegionSize;
    }
    std::uint64_t total = 0;
    if (const errc e = protocol::check_view_regions(std::span(regions.data(), count), total); e != errc{}) {
        ec = make_error_code(e);
        return 0;
    }
    ec.clear();
    return static_cast<std::size_t>(total);
}

// Whether this process may write at `address` (a read-only view may not even finish another
// process's initialisation).
inline bool is_writable(const void* address) noexcept
{
    MEMORY_BASIC_INFORMATION info{};
    if (::VirtualQuery(address, &info, sizeof info) == 0) {
        return false;
    }
    constexpr DWORD writable = PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY;
    return (info.Protect & writable) != 0;
}

// ---- one section and its view --------------------------------------------------------------------

struct section_request {
    open_mode mode = open_mode::open_only;
    // create / open_or_create: usable bytes after `header_size` (page rounding adds more).
    std::size_t size = 0;
    std::size_t header_size = 0;
    // open_only: whether to map for writing. A section this call creates is always mapped
    // read-write; one that open_or_create finds existing is too.
    bool writable = true;
    // The usable size the caller relies on when the section exists (0: whatever is there); a
    // smaller existing section is errc::too_large.
    std::size_t expected_size = 0;
    SECURITY_ATTRIBUTES* security_attributes = nullptr;
    large_page_mode create_large_pages = large_page_mode::off;
    large_page_mode open_large_pages = large_page_mode::off;
};

// The section handle and its view. Move-only; closing unmaps the view, then closes the handle.
class mapped_section {
public:
    mapped_section() noexcept = default;
    mapped_section(mapped_section&&) noexcept = default;
    mapped_section& operator=(mapped_section&& other) noexcept
    {
        if (this != &other) {
            close();
            handle_ = std::move(other.handle_);
            view_ = std::move(other.view_);
            name_ = other.name_;
            layout_ = other.layout_;
            created_ = other.created_;
            writable_ = other.writable_;
            large_pages_ = other.large_pages_;
            large_page_fallback_ = other.large_page_fallback_;
            other.reset_fields();
        }
        return *this;
    }
    mapped_section(const mapped_section&) = delete;
    mapped_section& operator=(const mapped_section&) = delete;
    ~mapped_section() { close(); }

    static std::error_code open(const object_name& name, const section_request& request, mapped_section& out) noexcept
    {
        out.close();
        mapped_section s;
        if (const std::error_code ec = s.establish(name, request)) {
            return ec;
        }
        out = std::move(s);
        return {};
    }

    // Unmaps, then closes; the first failure is reported, and both are released either way.
    std::error_code close() noexcept
    {
        std::error_code ec;
        if (!view_.reset()) {
            ec = last_error();
        }
        if (!handle_.reset() && !ec) {
            ec = last_error();
        }
        reset_fields();
        return ec;
    }

    bool is_open() const noexcept { return static_cast<bool>(view_); }
    std::byte* base() const noexcept { return view_.get(); }
    HANDLE native_handle() const noexcept { return handle_.get(); }
    const object_name& name() const noexcept { return name_; }
    const protocol::mapping_layout& layout() const noexcept { return layout_; }
    // The bytes mapped, header included (page-rounded).
    std::size_t view_size() const noexcept { return static_cast<std::size_t>(layout_.section_size); }
    bool created() const noexcept { return created_; }
    bool writable() const noexcept { return writable_; }
    bool large_pages() const noexcept { return large_pages_; }
    const std::error_code& large_page_fallback() const noexcept { return large_page_fallback_; }

    friend void swap(mapped_section& a, mapped_section& b) noexcept
    {
        mapped_section t = std::move(a);
        a = std::move(b);
        b = std::move(t);
    }

private:
    void reset_fields() noexcept
    {
        name_ = object_name{};
        layout_ = {};
        created_ = false;
        writable_ = false;
        large_pages_ = false;
        large_page_fallback_.clear();
    }

    std::error_code establish(const object_name& name, const section_request& request) noexcept
    {
        const bool writable = request.mode != open_mode::open_only || request.writable;
        // Opening never asks for FILE_MAP_ALL_ACCESS (nor needs SeCreateGlobalPrivilege, even in
        // Global\): a DACL that grants read, or read and write, is enough.
        const DWORD open_access = protocol::view_access(writable, false);
        unique_handle section;
        bool created = false;
        protocol::mapping_layout layout;
        large_page_plan large;
        if (request.mode == open_mode::open_only) {
            section = unique_handle(::OpenFileMappingW(open_access, FALSE, name.c_str()));
            if (!section) {
                return open_error(::GetLastError());
            }
        } else {
            if (const std::error_code refused = plan_large_pages(request.create_large_pages, large)) {
                return refused;
            }
            for (;;) {
                if (const errc e = protocol::compute_layout(request.size, request.header_size, large.page_size, layout);
                    e != errc{}) {
                    return e;
                }
                section = unique_handle(::CreateFileMappingW(
                    INVALID_HANDLE_VALUE, request.security_attributes, protocol::section_attributes(large.large),
                    static_cast<DWORD>(layout.section_size >> 32),
                    static_cast<DWORD>(layout.section_size & 0xFFFFFFFFu), name.c_str()));
                if (section) {
                    break;
                }
                const DWORD error = ::GetLastError();
                if (!fall_back_from_large_pages(request.create_large_pages, error, large)) {
                    return create_error(name, error, large.large);
                }
            }
            // CreateFileMappingW hands back an existing object (ignoring our size) and says so
            // only through the last error, which must be read before anything else runs.
            created = ::GetLastError() != ERROR_ALREADY_EXISTS;
            if (!created && request.mode == open_mode::create_only) {
                return errc::already_exists; // `section` closes; the existing mapping is untouched
            }
        }

        // A new section gets a view of exactly our layout; an existing one is mapped whole
        // (length 0) and measured, because its creator chose the size. A large-page section is
        // mapped with FILE_MAP_LARGE_PAGES; an opener that asked for large pages tries the flag.
        const large_page_mode open_large =
            request.mode == open_mode::open_only ? request.open_large_pages : request.create_large_pages;
        bool large_view = created ? large.large : open_large != large_page_mode::off;
        std::error_code large_fallback = created ? large.fallback : std::error_code{};
        unique_view view(::MapViewOfFile(section.get(), protocol::view_access(writable, large_view), 0, 0,
                                         created ? static_cast<std::size_t>(layout.section_size) : 0));
        if (!view && !created && large_view && open_large == large_page_mode::preferred) {
            large_fallback = last_error();
            large_view = false;
            view = unique_view(::MapViewOfFile(section.get(), open_access, 0, 0, 0));
        }
        if (!view) {
            return last_error();
        }
        if (!created) {
            // Before a byte of it is read: a stranger's section may be reserved, not committed.
            std::error_code ec;
            const std::size_t mapped = committed_view_size(view.get(), ec);
            if (ec) {
                return ec;
            }
            const std::size_t expected =
                request.mode == open_mode::open_only ? request.expected_size : request.size;
            if (const errc e = protocol::existing_layout(mapped, request.header_size, expected, layout); e != errc{}) {
                return e;
            }
        }
        handle_ = std::move(section);
        view_ = std::move(view);
        name_ = name;
        layout_ = layout;
        created_ = created;
        writable_ = writable;
        large_pages_ = large_view;
        large_page_fallback_ = large_fallback;
        return {};
    }

    unique_handle handle_;
    unique_view view_;
    object_name name_{};
    protocol::mapping_layout layout_{};
    bool created_ = false;
    bool writable_ = false;
    bool large_pages_ = false;
    std::error_code large_page_fallback_;
};

// Whether this account may map the section `name` for reading and writing; if not, `why` is the
// Win32 error that says so.
inline bool can_map_for_writing(const object_name& name, std::error_code& why) noexcept
{
    const unique_handle h(::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name.c_str()));
    why = h ? std::error_code{} : last_error();
    return static_cast<bool>(h);
}

// ---- owners ---------------------------------------------------------------------------------------

// A copy of an object's owner SID; `present` false when the object reports none (Wine does so
// for objects created without an explicit owner; Windows always sets one).
struct owner_sid {
    std::array<std::byte, SECURITY_MAX_SID_SIZE> bytes{};
    DWORD size = 0;
    bool present = false;

    friend bool operator==(const owner_sid& a, const owner_sid& b) noexcept
    {
        return a.present == b.present && a.size == b.size && std::memcmp(a.bytes.data(), b.bytes.data(), a.size) == 0;
    }
};

// Copies a SID into an owner_sid.
inline bool copy_owner(PSID sid, owner_sid& out) noexcept
{
    out = owner_sid{};
    if (sid == nullptr || !::IsValidSid(sid)) {
        return false;
    }
    const DWORD length = ::GetLengthSid(sid);
    if (length > out.bytes.size() || !::CopySid(length, out.bytes.data(), sid)) {
        return false;
    }
    out.size = length;
    out.present = true;
    return true;
}

// The owner of the object behind `handle`, which must have READ_CONTROL.
inline std::error_code object_owner(HANDLE handle, owner_sid& out) noexcept
{
    out = owner_sid{};
    PSID owner = nullptr;
    PSECURITY_DESCRIPTOR sd = nullptr;
    const DWORD status = ::GetSecurityInfo(handle, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr,
                                           nullptr, nullptr, &sd);
    if (status != ERROR_SUCCESS) {
        return win32_error(status);
    }
    copy_owner(owner, out);
    ::LocalFree(sd);
    return {};
}

// The owner of the section named `name`: opened apart, with READ_CONTROL only, so that the
// caller's own handle needs no right beyond mapping.
inline std::error_code section_owner(const object_name& name, owner_sid& out) noexcept
{
    const unique_handle h(::OpenFileMappingW(READ_CONTROL, FALSE, name.c_str()));
    if (!h) {
        return last_error();
    }
    return object_owner(h.get(), out);
}

// 64 random bits from the system's cryptographic generator (RtlGenRandom, in advapi32, which
// every winmmf program links). Names derived from a channel's or a notification's carry one, so
// that nobody who may not read the header can know - and create first - the names its writer
// and waiters will use.
inline std::uint64_t random_nonce() noexcept
{
    using gen_fn = BOOLEAN(WINAPI*)(PVOID, ULONG);
    static const auto gen = [] {
        HMODULE advapi = ::GetModuleHandleW(L"advapi32.dll");
        if (advapi == nullptr) {
            advapi = ::LoadLibraryW(L"advapi32.dll");
        }
        return advapi != nullptr ? reinterpret_cast<gen_fn>(reinterpret_cast<void*>(
                                       ::GetProcAddress(advapi, "SystemFunction036")))
                                 : nullptr;
    }();
    std::uint64_t value = 0;
    if (gen == nullptr || !gen(&value, sizeof value) || value == 0) {
        // Not reached on any Windows since XP. Still unique, though not secret: docs say so.
        LARGE_INTEGER counter{};
        ::QueryPerformanceCounter(&counter);
        value = protocol::pack(current_identity()) ^ (static_cast<std::uint64_t>(counter.QuadPart) * 0x9E3779B97F4A7C15ull);
        value |= 1;
    }
    return value;
}

// The owner that objects created with `sa` get: the owner its descriptor names, if any; else the
// one the kernel assigns, found by creating an object (an unnamed object may have no descriptor
// at all, so a named event with a random name, closed at once); else, where even that is
// refused (a sandbox without a Local\ namespace), the token's default owner. The reference every
// "is this object ours?" check compares against.
inline std::error_code owner_of_new_objects(SECURITY_ATTRIBUTES* sa, owner_sid& out) noexcept
{
    if (sa != nullptr && sa->lpSecurityDescriptor != nullptr) {
        PSID owner = nullptr;
        BOOL defaulted = FALSE;
        if (::GetSecurityDescriptorOwner(sa->lpSecurityDescriptor, &owner, &defaulted) && owner != nullptr) {
            return copy_owner(owner, out) ? std::error_code{} : win32_error(ERROR_INVALID_SID);
        }
    }
    wchar_t name[48] = L"Local\\winmmf-owner-probe-";
    std::size_t n = 0;
    while (name[n] != L'\0') {
        ++n;
    }
    std::uint64_t nonce = random_nonce();
    for (int i = 0; i < 16; ++i, nonce >>= 4) {
        name[n++] = L"0123456789abcdef"[nonce & 0xF];
    }
    name[n] = L'\0';
    const unique_handle probe(::CreateEventW(sa, TRUE, FALSE, name));
    if (probe) {
        return object_owner(probe.get(), out);
    }
    std::error_code ec;
    const unique_handle token = open_effective_token(TOKEN_QUERY, ec);
    if (ec) {
        return ec;
    }
    const unique_local<void> info = token_information(token.get(), TokenOwner, ec);
    if (ec) {
        return ec;
    }
    return copy_owner(static_cast<const TOKEN_OWNER*>(info.get())->Owner, out) ? std::error_code{}
                                                                                : win32_error(ERROR_INVALID_SID);
}

// ---- the handshake on a mapped section -------------------------------------------------------------

// How long an opener waits for a creator that has made the section but not yet published its
// header (microseconds, normally), and how soon a dead one is noticed.
inline constexpr std::chrono::milliseconds creation_grace{250};
inline constexpr std::chrono::milliseconds creation_recovery_bound{100};

struct layout_plan {
    protocol::layout_kind kind;
    // The part of the view the layout owns before any payload: checked to be untouched when
    // the creation starts.
    std::size_t header_bytes = 16;
    // Whether an opener may finish the initialisation of a creator that is certainly gone: it
    // must be able to write every field the layout's `initialize` writes.
    bool may_initialize = false;
    std::chrono::nanoseconds max_wait = creation_grace;
};

// Runs protocol/section.hpp's handshake on `s`. `initialize(base)` writes the layout's own
// fields - by the creator, or by an opener taking over from a dead one - and returns errc{} or
// why it cannot. Returns errc{} once the header is ready; `initialized` says whether this
// process wrote it.
template <class Initialize>
std::error_code establish_layout(mapped_section& s, const layout_plan& plan, Initialize&& initialize,
                                 bool& initialized) noexcept
{
    initialized = false;
    win32_environment env;
    const protocol::identity me = current_identity();
    std::byte* base = s.base();
    if (s.view_size() < plan.header_bytes) {
        return make_error_code(plan.kind.foreign);
    }
    if (s.created()) {
        if (const errc e = protocol::begin_creation(base, plan.header_bytes, me, plan.kind, env); e != errc{}) {
            return make_error_code(e);
        }
    } else {
        const protocol::attach_result r = protocol::attach(base, plan.header_bytes, me, plan.kind, plan.max_wait,
                                                           creation_recovery_bound, env,
                                                           plan.may_initialize && s.writable());
        if (r.error != errc{}) {
            return make_error_code(r.error);
        }
        if (!r.must_initialize) {
            return {};
        }
    }
    if (const errc e = initialize(base); e != errc{}) {
        // init keeps naming us until we exit; whoever finds it then finishes with their own fields.
        return make_error_code(e);
    }
    initialized = true;
    return make_error_code(protocol::publish_ready(base, me, plan.kind));
}

} // namespace winmmf::detail
