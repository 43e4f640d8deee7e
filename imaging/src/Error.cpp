#include "needleplan/imaging/Error.h"

#include "needleplan/imaging/ProgressRange.h"

namespace np {

const char* toString(ErrorCode code)
{
    switch (code) {
    case ErrorCode::InvalidArgument:
        return "invalid-argument";
    case ErrorCode::NotFound:
        return "not-found";
    case ErrorCode::NotDicom:
        return "not-dicom";
    case ErrorCode::UnsupportedTransferSyntax:
        return "unsupported-transfer-syntax";
    case ErrorCode::CorruptData:
        return "corrupt-data";
    case ErrorCode::InconsistentGeometry:
        return "inconsistent-geometry";
    case ErrorCode::DuplicatePosition:
        return "duplicate-position";
    case ErrorCode::TooLarge:
        return "too-large";
    case ErrorCode::Unsupported:
        return "unsupported";
    case ErrorCode::Io:
        return "io";
    case ErrorCode::Cancelled:
        return "cancelled";
    case ErrorCode::Network:
        return "network";
    case ErrorCode::Internal:
        return "internal";
    }
    return "unknown";
}

bool isInputError(ErrorCode code)
{
    return code != ErrorCode::Internal && code != ErrorCode::Cancelled && code != ErrorCode::Network;
}

void reportProgress(ProgressSink* sink, double fraction, const std::string& stage)
{
    if (sink)
        sink->report(fraction, stage);
}

void ProgressRange::report(double fraction, const std::string& stage)
{
    reportProgress(m_outer, m_from + (m_to - m_from) * fraction, m_prefix + stage);
}

bool ProgressRange::cancelRequested() const
{
    return m_outer && m_outer->cancelRequested();
}

void throwIfCancelled(const ProgressSink* sink)
{
    if (sink && sink->cancelRequested())
        throw Error(ErrorCode::Cancelled, "cancelled by the user");
}

} // namespace np
