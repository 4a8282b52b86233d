// bench/interleaved.hpp - a ratio's two rows measured round by round.
//
// Catch2 measures one row to the end before it starts the next, so a slow stretch of a shared
// machine (another build, a noisy neighbour of the VM) lands on one side of a ratio only. Here
// each round times a batch of one row, then a batch of the other - the order alternating from
// round to round - and keeps that round's ratio; the table gives the median of the in-round
// ratios and their range. A row's own figures (its mean, for the JSON) are the sums over the
// rounds.
#pragma once

#include <catch2/benchmark/catch_optimizer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace winmmf::bench {

// One row's figures, whichever way they were measured.
struct measured {
    double mean_ns = 0, low_ns = 0, high_ns = 0, stddev_ns = 0;
    unsigned samples = 0;
    int iterations = 0;
};

// Every row of the run, by name: Catch2's BENCHMARK rows and the interleaved ones.
inline std::map<std::string, measured>& rows()
{
    static std::map<std::string, measured> all;
    return all;
}

// The in-round ratios of each interleaved pair: time per iteration, ours / baseline.
inline std::map<std::pair<std::string, std::string>, std::vector<double>>& in_round_ratios()
{
    static std::map<std::pair<std::string, std::string>, std::vector<double>> all;
    return all;
}

inline constexpr int interleaved_rounds = 41; // odd: the median is a round's own ratio
// A batch lasts about this long, and holds at least interleaved_min_batch iterations: a row of a
// few milliseconds then still averages over several, so one slow wineserver call does not make
// a round's ratio.
inline constexpr std::chrono::nanoseconds interleaved_batch = std::chrono::milliseconds(10);
inline constexpr std::uint64_t interleaved_min_batch = 4;

template <class Row>
double time_batch(Row& row, std::uint64_t iterations)
{
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < iterations; ++i) {
        Catch::Benchmark::deoptimize_value(row());
    }
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
}

// How many iterations make a batch of about interleaved_batch (also the row's warm-up).
template <class Row>
std::uint64_t batch_iterations(Row& row)
{
    const double want = static_cast<double>(interleaved_batch.count());
    for (std::uint64_t n = 1;; n *= 2) {
        const double t = time_batch(row, n);
        if (t >= want / 4 || n >= (std::uint64_t{1} << 32)) {
            const double scaled = static_cast<double>(n) * want / std::max(t, 1.0);
            return std::max(interleaved_min_batch, static_cast<std::uint64_t>(scaled));
        }
    }
}

inline double median_of(std::vector<double> v)
{
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

inline measured summarise(const std::vector<double>& per_iteration_ns, std::uint64_t iterations)
{
    measured m;
    double sum = 0;
    for (const double x : per_iteration_ns) {
        sum += x;
    }
    m.mean_ns = sum / static_cast<double>(per_iteration_ns.size());
    double sq = 0;
    for (const double x : per_iteration_ns) {
        sq += (x - m.mean_ns) * (x - m.mean_ns);
    }
    m.stddev_ns = per_iteration_ns.size() > 1 ? std::sqrt(sq / static_cast<double>(per_iteration_ns.size() - 1)) : 0;
    m.low_ns = *std::min_element(per_iteration_ns.begin(), per_iteration_ns.end());
    m.high_ns = *std::max_element(per_iteration_ns.begin(), per_iteration_ns.end());
    m.samples = static_cast<unsigned>(per_iteration_ns.size());
    m.iterations = static_cast<int>(std::min<std::uint64_t>(iterations, 0x7FFFFFFF));
    return m;
}

// Measures `ours` and `baseline` (callables returning a value, as a BENCHMARK body) round by
// round, and records both rows and the pair's in-round ratios. `skip`: Catch2 was asked not to
// run benchmarks.
template <class Ours, class Baseline>
void interleave(const std::string& ours_name, Ours&& ours, const std::string& baseline_name, Baseline&& baseline,
                bool skip)
{
    if (skip) {
        return;
    }
    // Twice: the first pass is the warm-up (first touches of pages, caches, the helpers' first
    // wake-ups), the second sizes the batches.
    batch_iterations(ours);
    batch_iterations(baseline);
    const std::uint64_t n_ours = batch_iterations(ours);
    const std::uint64_t n_base = batch_iterations(baseline);
    std::vector<double> t_ours, t_base, ratios;
    for (int round = 0; round < interleaved_rounds; ++round) {
        double a = 0, b = 0;
        if (round % 2 == 0) {
            a = time_batch(ours, n_ours);
            b = time_batch(baseline, n_base);
        } else {
            b = time_batch(baseline, n_base);
            a = time_batch(ours, n_ours);
        }
        t_ours.push_back(a / static_cast<double>(n_ours));
        t_base.push_back(b / static_cast<double>(n_base));
        ratios.push_back(t_ours.back() / t_base.back());
    }
    rows()[ours_name] = summarise(t_ours, n_ours);
    rows()[baseline_name] = summarise(t_base, n_base);
    const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
    std::printf("interleaved: %s / %s: median %.3f (%.3f-%.3f), %d rounds of %llu and %llu iterations\n",
                ours_name.c_str(), baseline_name.c_str(), median_of(ratios), *lo, *hi, interleaved_rounds,
                static_cast<unsigned long long>(n_ours), static_cast<unsigned long long>(n_base));
    in_round_ratios()[{ours_name, baseline_name}] = std::move(ratios);
}

} // namespace winmmf::bench
