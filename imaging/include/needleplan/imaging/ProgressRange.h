#pragma once
/// A progress sink that maps one stage of a longer operation onto its share of the whole.

#include "needleplan/imaging/Progress.h"

#include <string>
#include <utility>

namespace np {

/// Forwards one stage's progress into its share [from, to] of a larger operation's progress, with an
/// optional prefix ("L4 medial branch: ") on the stage name; passes cancellation through.
class ProgressRange : public ProgressSink
{
public:
    ProgressRange(ProgressSink* outer, double from, double to, std::string prefix = {})
        : m_outer(outer), m_from(from), m_to(to), m_prefix(std::move(prefix))
    {
    }
    void report(double fraction, const std::string& stage) override;
    bool cancelRequested() const override;

private:
    ProgressSink* m_outer;
    double m_from, m_to;
    std::string m_prefix;
};

} // namespace np
