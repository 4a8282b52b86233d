// docs/reference/api.md is the public surface: this program uses every name it lists, through the umbrella
// header alone, so that a name the page promises cannot disappear (or change shape) without a
// compile error here. It runs too, briefly: each call does what the page says on a real mapping.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

template <class T>
void use(const T&)
{
}

} // namespace

TEST_CASE("api.md: error.hpp, name.hpp, acquire.hpp, cancel_token.hpp, the enums", "[api]")
{
    // error.hpp
    const std::error_code e = winmmf::make_error_code(winmmf::errc::not_found);
    CHECK(e.category() == winmmf::winmmf_category());
    CHECK(winmmf::make_error_condition(winmmf::errc::timeout) == winmmf::make_error_code(winmmf::errc::timeout));
    static_assert(std::is_error_code_enum_v<winmmf::errc>);
    for (const winmmf::errc v : {winmmf::errc::empty_name, winmmf::errc::name_contains_backslash,
                                 winmmf::errc::name_contains_nul, winmmf::errc::name_too_long,
                                 winmmf::errc::invalid_utf8, winmmf::errc::invalid_utf16, winmmf::errc::zero_size,
                                 winmmf::errc::size_overflow, winmmf::errc::too_large, winmmf::errc::out_of_bounds,
                                 winmmf::errc::already_exists, winmmf::errc::not_found, winmmf::errc::not_open,
                                 winmmf::errc::read_only, winmmf::errc::read_locked, winmmf::errc::write_locked,
                                 winmmf::errc::uninitialized, winmmf::errc::max_readers, winmmf::errc::lock_violation,
                                 winmmf::errc::corrupt_lock_word, winmmf::errc::wrong_lock_policy, winmmf::errc::timeout,
                                 winmmf::errc::max_tries_reached, winmmf::errc::owner_dead, winmmf::errc::cancelled,
                                 winmmf::errc::large_page_privilege_missing, winmmf::errc::global_privilege_missing,
                                 winmmf::errc::not_winmmf_mapping, winmmf::errc::wrong_layout,
                                 winmmf::errc::unsupported_layout_version, winmmf::errc::invalid_slot_count,
                                 winmmf::errc::channel_has_writer, winmmf::errc::end_of_stream, winmmf::errc::writer_gone,
                                 winmmf::errc::buffer_too_small, winmmf::errc::frame_overwritten,
                                 winmmf::errc::too_many_waiters, winmmf::errc::uncommitted_view,
                                 winmmf::errc::foreign_owner, winmmf::errc::geometry_mismatch,
                                 winmmf::errc::frame_abandoned, winmmf::errc::winmmf_name_too_long,
                                 winmmf::errc::winmmf_name_not_ascii, winmmf::errc::misaligned,
                                 winmmf::errc::no_change_notification, winmmf::errc::aborted,
                                 winmmf::errc::operation_pending}) {
        CHECK(winmmf::make_error_code(v).message() != "unknown winmmf error");
    }

    // name.hpp
    static_assert(winmmf::max_name_length == 259);
    const winmmf::name_scope scopes[] = {winmmf::name_scope::local, winmmf::name_scope::global,
                                         winmmf::name_scope::session, winmmf::name_scope::custom};
    use(scopes);
    static_assert(std::is_same_v<winmmf::name_char, wchar_t>);
    const winmmf::name_text text(std::string_view("api"));
    const winmmf::name_ref ref(winmmf::name_scope::local, text);
    CHECK(ref.scope() == winmmf::name_scope::local);
    CHECK(ref.session_id() == 0);
    use(ref.object());
    use(winmmf::global("x"));
    use(winmmf::session(1, "x"));
    use(winmmf::custom("Local\\x"));
    std::error_code ec;
    const winmmf::object_name made = winmmf::object_name::make(winmmf::local("api"), ec);
    const winmmf::object_name thrown(winmmf::local("api"));
    CHECK(made == thrown);
    CHECK_FALSE(made.empty());
    CHECK(made.scope() == winmmf::name_scope::local);
    CHECK(made.session_id() == 0);
    CHECK(made.c_str() != nullptr);
    CHECK(made.full() == L"Local\\api");
    CHECK(made.object() == L"api");
    CHECK(made.prefix() == L"Local\\");
    CHECK(made.to_utf8() == "Local\\api");
    CHECK(made.with_suffix(u".x", ec).to_utf8() == "Local\\api.x");
    const winmmf::parsed_name parsed = winmmf::parse_name("Global\\cam0");
    CHECK(parsed.has_prefix);
    CHECK(parsed.ref.scope() == winmmf::name_scope::global);
    static_assert(winmmf::winmmf_max_name_bytes == 63);
    CHECK_FALSE(winmmf::check_winmmf_name(made));
    CHECK_FALSE(winmmf::check_winmmf_name(winmmf::local("api")));
    CHECK_FALSE(winmmf::is_winmmf_compatible(winmmf::local(u8"caf\u00e9")));

    // acquire.hpp, cancel_token.hpp
    winmmf::cancel_token token;
    winmmf::cancel_token token_ec(ec);
    const winmmf::acquire_mode modes[] = {winmmf::acquire_mode::try_once(), winmmf::acquire_mode::wait_for(1ms),
                                          winmmf::acquire_mode::spin(10), winmmf::acquire_mode::spin_forever(),
                                          winmmf::acquire_mode::wait_for(1s).with_cancel(token)};
    CHECK(modes[0].how() == winmmf::acquire_mode::kind::try_once);
    CHECK(modes[1].how() == winmmf::acquire_mode::kind::wait);
    CHECK(modes[1].timeout() == 1ms);
    CHECK(modes[2].how() == winmmf::acquire_mode::kind::spin);
    CHECK(modes[2].max_tries() == 10);
    CHECK_FALSE(modes[4].cancelled());
    token.cancel();
    CHECK(token.cancelled());
    CHECK(modes[4].cancelled());
    token.reset();
    CHECK(token.native_handle() != nullptr);
    static_assert(winmmf::default_lock_timeout == 1000ms);
    CHECK(winmmf::is_transient(winmmf::errc::write_locked));
    use(winmmf::last_wait_refusal());

    // large_pages.hpp, privilege_state.hpp
    const winmmf::large_page_mode lp[] = {winmmf::large_page_mode::off, winmmf::large_page_mode::required,
                                          winmmf::large_page_mode::preferred};
    const winmmf::privilege_state ps[] = {winmmf::privilege_state::unknown, winmmf::privilege_state::absent,
                                          winmmf::privilege_state::disabled, winmmf::privilege_state::enabled};
    use(lp);
    use(ps);
}

TEST_CASE("api.md: lock.hpp, guard.hpp, mapping.hpp, robust_lock.hpp", "[api]")
{
    const std::string name = winmmf::test::unique_name("api-mapping");
    static_assert(winmmf::lock_policy<winmmf::compatible_lock>);
    static_assert(winmmf::lock_policy<winmmf::no_lock>);
    static_assert(winmmf::lock_policy<winmmf::robust_lock>);
    static_assert(winmmf::compatible_lock::header_size == 4 && winmmf::compatible_lock::readers_write_header);
    const winmmf::access_mode access[] = {winmmf::access_mode::read_write, winmmf::access_mode::read_only};
    use(access);
    const winmmf::open_options open_opts{.access = winmmf::access_mode::read_only, .expected_size = 0,
                                         .large_pages = winmmf::large_page_mode::off, .winmmf_name_check = false};
    const winmmf::create_options create_opts{.security_attributes = nullptr, .large_pages = winmmf::large_page_mode::off,
                                             .winmmf_name_check = true};

    std::error_code ec;
    winmmf::memory_mapped_file m = winmmf::memory_mapped_file::create(winmmf::local(name), 100, create_opts);
    winmmf::memory_mapped_file m_ec = winmmf::memory_mapped_file::create(winmmf::local(name + "-ec"), 100, ec);
    winmmf::memory_mapped_file opened = winmmf::memory_mapped_file::open(winmmf::local(name), open_opts);
    winmmf::memory_mapped_file either = winmmf::memory_mapped_file::open_or_create(winmmf::local(name), 100);
    using mapping = winmmf::basic_memory_mapped_file<winmmf::compatible_lock>;
    static_assert(std::is_same_v<mapping, winmmf::memory_mapped_file>);
    static_assert(std::is_same_v<mapping::lock_policy_type, winmmf::compatible_lock>);
    static_assert(mapping::header_size == 4);
    CHECK(m.is_open());
    CHECK(static_cast<bool>(m));
    CHECK(m.size() == 100);
    CHECK(m.capacity() >= 100);
    CHECK(m.section_size() >= 104);
    CHECK_FALSE(m.large_pages());
    CHECK_FALSE(m.large_page_fallback());
    CHECK(m.access() == winmmf::access_mode::read_write);
    CHECK(m.writable());
    CHECK(m.created());
    CHECK(m.name().to_utf8() == "Local\\" + name);
    CHECK(m.native_handle() != nullptr);
    use(m.lock_policy().value());
    m.set_default_acquire(m.default_acquire());
    CHECK(m.unsynchronized_bytes().size() == m.capacity());
    {
        winmmf::read_guard r = m.lock_read();
        winmmf::read_guard r2 = m.try_lock_read();
        CHECK(r.owns_lock());
        CHECK(static_cast<bool>(r2));
        CHECK(r.bytes().size() == r.size());
        use(r.data());
        CHECK_FALSE(r.previous_owner_died());
        r.unlock();
        r2.unlock(ec);
    }
    {
        winmmf::write_guard w = m.lock_write(winmmf::acquire_mode::wait_for(1s));
        w.unlock();
        winmmf::write_guard w2 = m.try_lock_write(ec);
        CHECK_FALSE(ec);
    }
    std::vector<std::byte> bytes(4, std::byte{7});
    m.write(0, bytes);
    m.read(0, bytes, winmmf::acquire_mode::try_once());
    m.write(4, std::uint32_t{9});
    m.write(4, std::uint32_t{9}, winmmf::acquire_mode::try_once(), ec);
    CHECK(m.read<std::uint32_t>(4) == 9);
    CHECK(m.read<std::uint32_t>(4, winmmf::acquire_mode::try_once(), ec) == 9);
    static_assert(winmmf::memory_mapped_file::data_alignment == 4);
    {
        winmmf::write_guard w = m.lock_write();
        CHECK(w.as<std::uint32_t>(4) == 9);
        CHECK(w.as_span<std::uint32_t>(0, 2).size() == 2);
        (void)w.as<std::uint32_t>(1, ec);
        CHECK(ec == winmmf::errc::misaligned);
        (void)w.as_span<std::uint32_t>(1, 1, ec);
        CHECK(ec == winmmf::errc::misaligned);
    }
    CHECK_FALSE(m.has_change_notification());
    CHECK(m.change_sequence() == 0);
    CHECK(m.change_notification() == nullptr);
    CHECK(std::as_const(m).change_notification() == nullptr);
    (void)m.wait_for_change(0, winmmf::acquire_mode::try_once(), ec);
    CHECK(ec == winmmf::errc::no_change_notification);
    {
        auto with = winmmf::memory_mapped_file::open(
            winmmf::local(name), {.wait = winmmf::acquire_mode::wait_for(1s), .change_notification = false});
        CHECK(with.is_open());
    }
    CHECK(m.force_unlock_stale_lock() == 0);
    winmmf::basic_read_guard<winmmf::compatible_lock> typed_read;
    winmmf::basic_write_guard<winmmf::compatible_lock> typed_write;
    CHECK_FALSE(typed_read);
    CHECK_FALSE(typed_write);
    winmmf::basic_memory_mapped_file<winmmf::no_lock> plain =
        winmmf::basic_memory_mapped_file<winmmf::no_lock>::open(winmmf::local(name));
    CHECK(plain.is_open());
    m.swap(either);
    m.close();
    either.close(ec);
    use(m_ec);
    use(opened);

    winmmf::robust_memory_mapped_file r = winmmf::robust_memory_mapped_file::create(winmmf::local(name + "-r"), 100);
    r.lock_policy().set_recovery_bound(50ms);
    CHECK(r.lock_policy().recovery_bound() == 50ms);
    static_assert(winmmf::robust_lock::default_recovery_bound == 100ms);
    static_assert(winmmf::robust_lock::min_recovery_bound == 1ms);
    static_assert(winmmf::robust_lock::max_recovery_bound == std::chrono::milliseconds(3600000));
    {
        winmmf::robust_write_guard w = r.lock_write();
        const winmmf::robust_lock_state s = r.lock_policy().inspect();
        CHECK(s.ready);
        CHECK(s.version == 3);
        CHECK(s.initialiser_pid == 0);
        CHECK(s.writer_pid == ::GetCurrentProcessId());
        CHECK(s.writer_holds);
        CHECK_FALSE(s.owner_died);
        CHECK(s.readers == 0);
        CHECK(s.recoveries == 0);
        CHECK_FALSE(s.corrupt);
        CHECK_FALSE(r.lock_policy().holds_lock()); // the guard holds its own copy
    }
    winmmf::robust_read_guard rr = r.lock_read();
    CHECK(rr.owns_lock());
}

TEST_CASE("api.md: notification.hpp, frame headers, inspect.hpp", "[api]")
{
    const std::string name = winmmf::test::unique_name("api-frames");
    std::error_code ec;
    const winmmf::notification_options nopts{.security_attributes = nullptr};
    winmmf::notification n = winmmf::notification::create(winmmf::local(name + ".n"), nopts);
    winmmf::notification n2 = winmmf::notification::open(winmmf::local(name + ".n"));
    winmmf::notification n3 = winmmf::notification::open_or_create(winmmf::local(name + ".n"), ec);
    static_assert(winmmf::notification::layout_version == 2);
    static_assert(winmmf::notification::header_size == 64);
    CHECK(winmmf::notification::name_for(n.name()).to_utf8() == n.name().to_utf8() + ".notify");
    CHECK(n.is_open());
    CHECK(static_cast<bool>(n2));
    CHECK(n.created());
    CHECK(n.sequence() == 0);
    CHECK(n.notify() == 0);
    CHECK(n2.wait(0, winmmf::acquire_mode::try_once()) == 1);
    CHECK(n.waiting() == 0);
    CHECK(n.reclaim_abandoned_waiters() == 0);
    n3.close();

    const winmmf::pixel_format formats[] = {winmmf::pixel_format::unknown, winmmf::pixel_format::rgb24,
                                            winmmf::pixel_format::bgr24,   winmmf::pixel_format::rgba32,
                                            winmmf::pixel_format::bgra32,  winmmf::pixel_format::gray8,
                                            winmmf::pixel_format::gray16,  winmmf::pixel_format::nv12,
                                            winmmf::pixel_format::yuy2};
    use(formats);
    static_assert(winmmf::bytes_per_pixel(winmmf::pixel_format::rgb24) == 3);
    static_assert(winmmf::frame_size(2, 2, winmmf::pixel_format::gray8) == 4);
    static_assert(winmmf::default_frame_slots == 3);
    const winmmf::writer_status statuses[] = {winmmf::writer_status::active, winmmf::writer_status::closed,
                                              winmmf::writer_status::gone};
    use(statuses);
    const winmmf::writer_options wopts{.max_frame_size = 64,
                                       .slots = winmmf::default_frame_slots,
                                       .security_attributes = nullptr,
                                       .notification_security_attributes = nullptr,
                                       .large_pages = winmmf::large_page_mode::off};
    const winmmf::reader_options ropts{.access = winmmf::access_mode::read_only, .security_attributes = nullptr};
    static_assert(winmmf::frame_clock::is_steady);
    const winmmf::frame_clock::time_point t = winmmf::frame_clock::now();
    use(t);

    winmmf::frame_writer w = winmmf::frame_writer::create(winmmf::local(name), wopts);
    winmmf::frame_writer w_ec = winmmf::frame_writer::create(winmmf::local(name + "-ec"), wopts, ec);
    CHECK(w.is_open());
    CHECK(static_cast<bool>(w));
    CHECK(w.created());
    CHECK(w.name().to_utf8() == "Local\\" + name);
    CHECK(w.max_frame_size() == 64);
    CHECK(w.slot_count() == 3);
    CHECK(w.published() == 0);
    CHECK(w.waiting() == 0);
    CHECK_FALSE(w.notification_name().empty());
    std::vector<std::byte> frame(64, std::byte{1});
    winmmf::frame_meta meta{.width = 8, .height = 8, .stride = 8, .format = winmmf::pixel_format::gray8,
                            .timestamp = 0, .user_tag = 0};
    CHECK(w.publish(frame, meta) == 1);
    winmmf::writable_frame wf = w.begin_frame();
    CHECK(static_cast<bool>(wf));
    CHECK(wf.bytes().size() == 64);
    CHECK(wf.sequence() == 2);
    CHECK(wf.publish(64) == 2);

    winmmf::frame_reader r = winmmf::frame_reader::open(winmmf::local(name), ropts);
    winmmf::frame_reader r_ec = winmmf::frame_reader::open(winmmf::local(name), ec);
    CHECK(r.is_open());
    CHECK(static_cast<bool>(r_ec));
    CHECK(r.name() == w.name());
    CHECK(r.max_frame_size() == 64);
    CHECK(r.slot_count() == 3);
    CHECK(r.published() == 2);
    CHECK(r.waiting() == 0);
    CHECK(r.notification_name() == w.notification_name());
    CHECK(r.can_wait());
    CHECK_FALSE(r.wait_refusal());
    CHECK(r.writer_state() == winmmf::writer_status::active);
    CHECK(r.writer_process_id() == ::GetCurrentProcessId());
    winmmf::frame_info info;
    CHECK(r.try_take(frame, info));
    CHECK(info.sequence == 2);
    CHECK(info.skipped == 0);
    CHECK(info.size == 64);
    use(info.publish_time);
    use(info.meta);
    w.publish(frame);
    const winmmf::frame_info taken = r.take(frame, winmmf::acquire_mode::wait_for(1s));
    CHECK(taken.sequence == 3);
    w.publish(frame);
    winmmf::frame_view v = r.acquire(winmmf::acquire_mode::spin(1000));
    CHECK(static_cast<bool>(v));
    CHECK(v.bytes().size() == 64);
    CHECK(v.info().sequence == 4);
    CHECK(v.still_valid());
    winmmf::frame_view none = r.try_acquire();
    CHECK_FALSE(none);
    CHECK(r.frames_taken() == 3);
    use(r.frames_skipped());
    CHECK(r.last_sequence() == 4);
    use(r.retries());
    r_ec.close();
    winmmf::frame_writer again = winmmf::frame_writer::open_or_create(winmmf::local(name + "-ec"), wopts, ec);
    CHECK(ec == winmmf::errc::channel_has_writer);
    w_ec.close();
    again = winmmf::frame_writer::open(winmmf::local(name + "-ec"));
    CHECK(again.is_open());

    const winmmf::layout_kind kinds[] = {winmmf::layout_kind::compatible, winmmf::layout_kind::robust,
                                         winmmf::layout_kind::frame_channel, winmmf::layout_kind::channel_notification,
                                         winmmf::layout_kind::notification, winmmf::layout_kind::unknown_marker};
    const winmmf::lock_word_state states[] = {winmmf::lock_word_state::free, winmmf::lock_word_state::read_locked,
                                              winmmf::lock_word_state::write_locked,
                                              winmmf::lock_word_state::uninitialized, winmmf::lock_word_state::corrupt};
    use(kinds);
    use(states);
    const winmmf::inspection i = winmmf::inspect(winmmf::local(name));
    const winmmf::inspection i_ec = winmmf::inspect(winmmf::local(name), ec);
    CHECK(i.layout == winmmf::layout_kind::frame_channel);
    const winmmf::channel_inspection& c = i.channel;
    CHECK(c.slots == 3);
    CHECK(c.max_frame_size == 64);
    CHECK(c.published == 4);
    CHECK(c.writer == winmmf::writer_status::active);
    CHECK(c.writer_pid == ::GetCurrentProcessId());
    CHECK(c.waiting == 0);
    CHECK(c.notification == w.notification_name());
    CHECK(c.can_wait);
    CHECK_FALSE(c.wait_refusal);
    use(i.name);
    use(i.section_size);
    use(i.first_word);
    use(i.refusal);
    use(i.writable);
    use(i.write_refusal);
    use(i.capacity);
    use(i.lock);
    use(i.readers);
    use(i.robust);
    use(i.robust_initialiser_alive);
    use(i.robust_writer_alive);
    use(i.robust_init);
    static_assert(winmmf::inspection::robust_layout_version == 3);
    use(i.notification_sequence);
    use(i.notification_waiting);
    use(i_ec);
}

TEST_CASE("api.md: directory.hpp", "[api]")
{
    const std::string name = winmmf::test::unique_name("api-dir");
    auto m = winmmf::memory_mapped_file::create(winmmf::local(name), 64);
    std::error_code ec;
    const std::wstring directory = winmmf::named_object_directory(winmmf::name_scope::local, 0, ec);
    CHECK_FALSE(ec);
    CHECK(directory.find(L"BaseNamedObjects") != std::wstring::npos);
    const winmmf::object_listing listing = winmmf::list_named_objects(winmmf::name_scope::local);
    const winmmf::object_listing listing_ec = winmmf::list_named_objects(winmmf::name_scope::local, ec);
    CHECK_FALSE(ec);
    const winmmf::object_listing listing_session = winmmf::list_named_objects(winmmf::name_scope::local, 0, ec);
    use(listing_session.skipped);
    use(listing_ec.directory);
    bool found = false;
    for (const winmmf::named_object& o : listing.objects) {
        use(o.type);
        use(o.is_event());
        found = found || (o.is_section() && o.name == m.name());
    }
    CHECK(found);
}

TEST_CASE("api.md: sddl.hpp, security.hpp, privilege.hpp, session.hpp", "[api]")
{
    const winmmf::security_preset presets[] = {winmmf::security_preset::current_user_only,
                                               winmmf::security_preset::service_writes_users_read,
                                               winmmf::security_preset::service_writes_users_read_write};
    const winmmf::integrity_label labels[] = {winmmf::integrity_label::none, winmmf::integrity_label::low};
    use(presets);
    use(labels);
    static_assert(winmmf::access_rights::reader == winmmf::access_rights::generic_read);
    static_assert(winmmf::access_rights::writer == (winmmf::access_rights::generic_read | winmmf::access_rights::generic_write));
    use(winmmf::access_rights::synchronize);
    use(winmmf::access_rights::generic_all);
    static_assert(winmmf::is_sid_string(winmmf::local_system_sid));
    CHECK(winmmf::preset_sddl(winmmf::security_preset::current_user_only, "S-1-5-18") == "D:P(A;;GA;;;S-1-5-18)");
    std::error_code ec;
    const winmmf::security_descriptor a = winmmf::security_descriptor::from_sddl("D:P(A;;GA;;;SY)");
    const winmmf::security_descriptor b = winmmf::security_descriptor::from_sddl(L"D:P(A;;GA;;;SY)", ec);
    const winmmf::security_descriptor c = winmmf::security_descriptor::from_preset(winmmf::security_preset::current_user_only);
    const winmmf::security_descriptor d = winmmf::security_descriptor::from_preset_for(
        winmmf::security_preset::service_writes_users_read, winmmf::local_system_sid);
    CHECK(static_cast<bool>(a));
    CHECK(b.attributes() != nullptr);
    CHECK(c.native_handle() != nullptr);
    CHECK_FALSE(d.to_sddl().empty());

    use(winmmf::create_global_privilege_name);
    use(winmmf::lock_memory_privilege_name);
    use(winmmf::query_privilege(winmmf::create_global_privilege_name));
    use(winmmf::has_create_global_privilege(ec));
    use(winmmf::enable_lock_memory_privilege(ec));
    use(winmmf::current_session_id());
}

TEST_CASE("api.md: async.hpp and the async_* members", "[api][async]")
{
    using winmmf::acquire_mode;
    static_assert(!std::is_copy_constructible_v<winmmf::async_operation>);
    static_assert(std::is_nothrow_move_constructible_v<winmmf::async_operation>);
    static_assert(std::is_nothrow_move_assignable_v<winmmf::async_operation>);
    winmmf::async_operation empty;
    CHECK_FALSE(empty);
    CHECK_FALSE(empty.pending());
    CHECK_FALSE(empty.cancel());
    empty.reset();

    const std::string base = winmmf::test::unique_name("api-async");
    auto n = winmmf::notification::create(winmmf::local(base + "-n"));
    auto w = winmmf::frame_writer::create(winmmf::local(base), {.max_frame_size = 64});
    auto r = winmmf::frame_reader::open(winmmf::local(base));
    auto m = winmmf::memory_mapped_file::create(winmmf::local(base + "-m"), 64, {.change_notification = true});
    auto rm = winmmf::robust_memory_mapped_file::create(winmmf::local(base + "-r"), 64);
    std::vector<std::byte> buf(64);
    std::atomic<int> done{0};
    const auto count = [&done](const std::error_code&, auto) noexcept { done.fetch_add(1); };

    // The callback forms: each returns the handle; with try_once all complete at once (on the pool).
    std::vector<winmmf::async_operation> ops;
    ops.push_back(n.async_wait(n.sequence(), acquire_mode::try_once(), count));
    ops.push_back(r.async_take(buf, acquire_mode::try_once(), count));
    CHECK(winmmf::test::eventually([&] { return done.load() == 2; }));
    ops.push_back(r.async_acquire(acquire_mode::try_once(), count));
    ops.push_back(m.async_lock_read(acquire_mode::try_once(), count));
    ops.push_back(m.async_lock_write(acquire_mode::try_once(), count));
    ops.push_back(m.async_wait_for_change(m.change_sequence(), acquire_mode::try_once(), count));
    ops.push_back(rm.async_lock_write(acquire_mode::try_once(), count));
    ops.push_back(rm.async_lock_read(acquire_mode::try_once(), count));
    CHECK(winmmf::test::eventually([&] { return done.load() == 8; }));
    for (auto& op : ops) {
        CHECK_FALSE(op.pending());
        CHECK_FALSE(op.cancel()); // it ended: its own result stands
    }

    // The coroutine forms: awaitables, with and without an error_code.
    std::error_code ec;
    using winmmf::frame_info;
    using winmmf::frame_view;
    static_assert(std::is_same_v<decltype(r.async_take(buf, acquire_mode::try_once()).await_resume()), frame_info>);
    static_assert(std::is_same_v<decltype(r.async_take(buf, acquire_mode::try_once(), ec).await_resume()), frame_info>);
    static_assert(std::is_same_v<decltype(r.async_acquire(acquire_mode::try_once()).await_resume()), frame_view>);
    static_assert(std::is_same_v<decltype(r.async_acquire(acquire_mode::try_once(), ec).await_resume()), frame_view>);
    static_assert(std::is_same_v<decltype(n.async_wait(0, acquire_mode::try_once()).await_resume()), std::uint64_t>);
    static_assert(std::is_same_v<decltype(n.async_wait(0, acquire_mode::try_once(), ec).await_resume()), std::uint64_t>);
    static_assert(std::is_same_v<decltype(m.async_lock_read(acquire_mode::try_once()).await_resume()), winmmf::read_guard>);
    static_assert(std::is_same_v<decltype(m.async_lock_write(acquire_mode::try_once(), ec).await_resume()), winmmf::write_guard>);
    static_assert(std::is_same_v<decltype(m.async_wait_for_change(0, acquire_mode::try_once()).await_resume()), std::uint64_t>);
    static_assert(std::is_same_v<decltype(rm.async_lock_write(acquire_mode::try_once()).await_resume()),
                                 winmmf::robust_memory_mapped_file::write_guard>);
    CHECK(winmmf::errc::aborted != winmmf::errc::operation_pending);
}
