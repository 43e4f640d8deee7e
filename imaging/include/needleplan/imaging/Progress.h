#pragma once
/// Progress reporting and cancellation for long operations, free of any GUI toolkit.

#include <string>

namespace np {

/// Receives progress from long work (loading, segmentation, distance maps, search) and tells it
/// whether the user asked to stop. Implementations must be thread-safe: workers may call from
/// several threads at once.
class ProgressSink
{
public:
    virtual ~ProgressSink() = default;

    /// Fraction in [0, 1] of the current stage, with a short human-readable stage name.
    virtual void report(double fraction, const std::string& stage) { (void)fraction, (void)stage; }

    /// True once the user has asked to cancel; work stops at the next check.
    virtual bool cancelRequested() const { return false; }
};

/// Reports through `sink` when it is not null.
void reportProgress(ProgressSink* sink, double fraction, const std::string& stage);

/// Throws Error(ErrorCode::Cancelled) when `sink` is not null and asks to cancel.
void throwIfCancelled(const ProgressSink* sink);

} // namespace np
