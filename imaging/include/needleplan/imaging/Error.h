#pragma once
/// The one exception hierarchy of NeedlePlan. Toolkit errors (DCMTK status codes, ITK exceptions)
/// are translated into np::Error at the library boundary, so callers never see toolkit types.

#include <stdexcept>
#include <string>

namespace np {

/// What kind of failure happened; the CLI maps these onto its documented exit codes.
enum class ErrorCode
{
    InvalidArgument,           ///< A parameter or option value is out of range or malformed.
    NotFound,                  ///< A file, folder, series or named item does not exist.
    NotDicom,                  ///< The file is not DICOM (or not the expected kind of file).
    UnsupportedTransferSyntax, ///< Pixel data is encoded in a syntax no available codec decodes.
    CorruptData,               ///< The file is truncated, inconsistent or missing required data.
    InconsistentGeometry,      ///< Positions, orientations or spacings contradict each other.
    DuplicatePosition,         ///< Two slices of one stack sit at the same position.
    TooLarge,                  ///< The data would need more memory than the configured cap.
    Unsupported,               ///< Valid input that this version cannot handle.
    Io,                        ///< Reading or writing failed at the operating-system level.
    Cancelled,                 ///< The user cancelled a long operation.
    Network,                   ///< A network peer (a PACS) refused, dropped, timed out or answered with an error.
    Internal,                  ///< A bug: an invariant of the program itself was broken.
};

/// Stable lower-case name of an error code, e.g. "unsupported-transfer-syntax".
const char* toString(ErrorCode code);

/// Failure with a code and a message a clinician or physicist can act on.
class Error : public std::runtime_error
{
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), m_code(code) {}

    ErrorCode code() const noexcept { return m_code; }

private:
    ErrorCode m_code;
};

/// True when a failure is the input's fault (bad file, bad argument) rather than a bug or cancel.
bool isInputError(ErrorCode code);

} // namespace np
