#pragma once
// Decoding the pixel data of one DICOM file into float slices (internal).

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

/// Reads the file, decompresses it when encapsulated, and writes rescaled values (HU for CT),
/// with BitsStored masking, sign extension, padding and MONOCHROME1 inversion applied.
/// Throws np::Error(UnsupportedTransferSyntax) for syntaxes without a decoder (JPEG 2000, ...),
/// np::Error(CorruptData) for truncated files or missing / short PixelData.
void decodeDicomFrames(const DecodeRequest& request);

/// True when the transfer syntax UID can be decoded by this build.
bool isDecodableTransferSyntax(const std::string& uid);

} // namespace np::imaging::detail
