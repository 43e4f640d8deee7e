#pragma once
// Decoding the pixel data of one DICOM file into float slices (internal).

#include <limits>
#include <string>
#include <vector>

#include "needleplan/imaging/DicomScanner.h"

namespace np::imaging::detail {

/// Frames of one file to decode, and where each goes.
struct DecodeRequest
{
    std::string path;
    std::vector<int> frameIndices;       ///< frames to decode
    std::vector<float*> destinations;    ///< rows × columns floats per requested frame
    std::vector<double> rescaleSlopes;   ///< per requested frame
    std::vector<double> rescaleIntercepts;
    int expectedRows = 0;
    int expectedColumns = 0;
    /// Value for PixelPaddingValue pixels: -1024 (air) for CT, NaN (filled later) otherwise.
    float paddingReplacement = -1024.0f;
    /// Encoding from the header scan: lets native little-endian files be read directly, without a
    /// second full parse (the parsed path is used whenever the file does not match it exactly).
    DicomPixelFormat format;
};

/// Smallest and largest of the decoded values (NaN ignored), and whether any was NaN.
struct DecodedRange
{
    float minimum = std::numeric_limits<float>::infinity();
    float maximum = -std::numeric_limits<float>::infinity();
    bool anyNan = false;

    bool hasValues() const { return minimum <= maximum; }
    void add(float value)
    {
        anyNan = anyNan || value != value;
        minimum = value < minimum ? value : minimum;
        maximum = value > maximum ? value : maximum;
    }
    void merge(const DecodedRange& other)
    {
        anyNan = anyNan || other.anyNan;
        minimum = other.minimum < minimum ? other.minimum : minimum;
        maximum = other.maximum > maximum ? other.maximum : maximum;
    }
};

/// Reads the file, decompresses it when encapsulated, and writes rescaled values (HU for CT),
/// with BitsStored masking, sign extension, padding and MONOCHROME1 inversion applied.
/// Returns the range of the values written, found in the same pass.
/// Throws np::Error(UnsupportedTransferSyntax) for syntaxes without a decoder (JPEG 2000, ...),
/// np::Error(CorruptData) for truncated files or missing / short PixelData.
DecodedRange decodeDicomFrames(const DecodeRequest& request);

/// True when the transfer syntax UID can be decoded by this build.
bool isDecodableTransferSyntax(const std::string& uid);

} // namespace np::imaging::detail
