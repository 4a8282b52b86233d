// The Asio form of the asynchronous waits (docs/async.md), with standalone Asio: built only when
// the winmmf::asio target exists. One thread runs a producer and a consumer, both coroutines on
// one io_context; the test runs it alone.
// [snippet:program]
#include <asio.hpp>              // Asio first: <winmmf/asio.hpp> uses the Asio it finds
#include <winmmf/asio.hpp>       // not in <winmmf/winmmf.hpp>
#include <winmmf/winmmf.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

using namespace std::chrono_literals;

asio::awaitable<void> consume(winmmf::frame_reader& reader)
{
    std::vector<std::byte> frame(reader.max_frame_size());   // in the coroutine frame: outlives each wait
    for (;;) {
        asio::error_code ec;   // standalone Asio: a std::error_code, compares with winmmf::errc
        const winmmf::frame_info info = co_await winmmf::asio::async_take(
            reader, frame, winmmf::acquire_mode::wait_for(5s), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {   // end_of_stream once the writer closes; timeout, writer_gone, ...
            std::printf("stream ended: %s\n", ec.message().c_str());
            co_return;
        }
        // On the io_context's thread: the handler's executor, not the pool thread that woke.
        std::printf("frame %llu\n", static_cast<unsigned long long>(info.sequence));
    }
}

asio::awaitable<void> produce(winmmf::frame_writer& writer)
{
    asio::steady_timer tick(co_await asio::this_coro::executor);
    for (int i = 0; i < 5; ++i) {
        writer.publish(std::vector<std::byte>(64, std::byte{7}));
        tick.expires_after(10ms);
        co_await tick.async_wait(asio::use_awaitable);
    }
    writer.close();   // end of stream
}

int main()
{
    auto writer = winmmf::frame_writer::create(winmmf::local("async-asio"), {.max_frame_size = 64});
    auto reader = winmmf::frame_reader::open(winmmf::local("async-asio"));

    asio::io_context io;
    asio::co_spawn(io, consume(reader), asio::detached);
    asio::co_spawn(io, produce(writer), asio::detached);
    io.run();   // one thread for both; a pending winmmf wait counts as work
    // [end:program]
    bool ok = reader.last_sequence() == 5 && reader.writer_state() == winmmf::writer_status::closed;

    // [snippet:cancel]
    auto changed = winmmf::notification::create(winmmf::local("async-asio-changes"));
    asio::cancellation_signal stop;
    bool aborted = false;
    winmmf::asio::async_wait(changed, changed.sequence(), winmmf::acquire_mode::wait_for(1h),
        asio::bind_cancellation_slot(stop.slot(), asio::bind_executor(io, [&aborted](asio::error_code ec, std::uint64_t) {
            aborted = ec == asio::error::operation_aborted;
        })));
    stop.emit(asio::cancellation_type::terminal);   // Asio 1.19+; Boost.Asio 1.77+
    io.restart();
    io.run();
    // [end:cancel]
    ok = ok && aborted;

    std::printf("%s\n", ok ? "every wait ended as expected" : "a wait ended otherwise");
    return ok ? 0 : 1;
    // [snippet:program]
}
// [end:program]
