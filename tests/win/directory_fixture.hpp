// Another process that makes one object of every kind the library makes (the child's
// make-objects, tests/child/directory_commands.cpp) and keeps them while a test lists them.
#pragma once

#include <winmmf/name.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <optional>
#include <string>

namespace winmmf::test {

class objects_in_another_process {
public:
    // `scope`: "local" or "global", as the child takes it.
    explicit objects_in_another_process(const std::string& scope)
        : scope_(scope),
          base_(unique_name("dir-" + scope)),
          ready_(named_event::create(base_ + "-ready")),
          release_(named_event::create(base_ + "-release"))
    {
        child_ = captured_process::start(executable_dir() + L"winmmf_child.exe",
                                         {"make-objects", scope_, base_, base_ + "-ready", base_ + "-release"});
        const bool ready = ready_.wait_or_exit(child_.handle());
        UNSCOPED_INFO("winmmf_child stderr: " << child_.err());
        REQUIRE(ready);
        std::string line = child_.out();
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
            line.pop_back();
        }
        sibling_ = line;
    }
    ~objects_in_another_process()
    {
        release_.set();
        (void)child_.wait();
    }
    objects_in_another_process(const objects_in_another_process&) = delete;
    objects_in_another_process& operator=(const objects_in_another_process&) = delete;

    const std::string& base() const noexcept { return base_; }
    // "Local\" or "Global\"
    std::string prefix() const { return scope_ == "global" ? "Global\\" : "Local\\"; }
    std::string full(const std::string& suffix) const { return prefix() + base_ + suffix; }
    // The channel's notification sibling, as its writer named it: "Local\<base>-chan#<16 hex>".
    const std::string& sibling() const noexcept { return sibling_; }

    // Ends the child, with everything it made; returns its exit code.
    std::optional<DWORD> release()
    {
        release_.set();
        return child_.wait();
    }

private:
    std::string scope_;
    std::string base_;
    named_event ready_;
    named_event release_;
    captured_process child_;
    std::string sibling_;
};

} // namespace winmmf::test
