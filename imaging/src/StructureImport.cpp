#include "needleplan/imaging/StructureImport.h"

#include "DcmtkAccess.h"

#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/LabelColorTable.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/RtStructImport.h"

#include <algorithm>
#include <cmath>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace np::imaging {

namespace {

std::string lowerCase(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool hasDicomPreamble(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    char buffer[132] = {};
    in.read(buffer, sizeof buffer);
    return in.gcount() == 132 && std::string(buffer + 128, 4) == "DICM";
}

bool sameGrid(const Geometry& a, const Geometry& b)
{
    if (a.size != b.size || distance(a.spacing, b.spacing) > 1e-4 ||
        distance(a.originLps, b.originLps) > 1e-3)
        return false;
    for (int e = 0; e < 9; ++e)
        if (std::abs(a.directionLps.m[static_cast<std::size_t>(e)] -
                     b.directionLps.m[static_cast<std::size_t>(e)]) > 1e-5)
            return false;
    return true;
}

std::string describe(const Geometry& g)
{
    std::ostringstream out;
    out << g.size[0] << "x" << g.size[1] << "x" << g.size[2] << " voxels of " << g.spacing.x << "x"
        << g.spacing.y << "x" << g.spacing.z << " mm at (" << g.originLps.x << ", " << g.originLps.y << ", "
        << g.originLps.z << ")";
    return out.str();
}

} // namespace

StructureFileKind detectStructureFile(const std::string& path)
{
    std::error_code error;
    if (!std::filesystem::exists(path, error))
        throw Error(ErrorCode::NotFound, "structure file " + path + " does not exist");
    if (std::filesystem::is_directory(path, error))
        throw Error(ErrorCode::Unsupported,
                    path + " is a folder; give the SEG, RTSTRUCT or label map file itself");
    const std::string lower = lowerCase(path);
    for (const char* extension : {".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd"})
        if (endsWith(lower, extension))
            return StructureFileKind::LabelMap;
    const bool dicomName = endsWith(lower, ".dcm") || std::filesystem::path(path).extension().empty();
    if (hasDicomPreamble(path) || dicomName) {
        DcmFileFormat file;
        const DcmTagKey stopTag = DCM_PixelData; // the SOP class and modality come before the pixels
        if (detail::loadDicomFile(file, path, 4096, ERM_autoDetect, &stopTag).bad())
            throw Error(ErrorCode::NotDicom,
                        path + ": not a readable DICOM file, nor a label map (.nrrd, .nii, .mha)");
        OFString sopClass, modality;
        file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sopClass);
        file.getDataset()->findAndGetOFString(DCM_Modality, modality);
        if (sopClass == UID_SegmentationStorage || modality == "SEG")
            return StructureFileKind::DicomSeg;
        if (sopClass == UID_RTStructureSetStorage || modality == "RTSTRUCT")
            return StructureFileKind::RtStruct;
        throw Error(ErrorCode::NotDicom, path + ": DICOM " + std::string(modality.c_str()) +
                                             " object, not a segmentation (SEG) or structure set (RTSTRUCT)");
    }
    throw Error(ErrorCode::Unsupported, path + ": unknown structure file type (expected DICOM SEG, RTSTRUCT, "
                                               ".seg.nrrd, .nrrd, .nii(.gz) or .mha)");
}

StructureSet labelMapOnGrid(const LabelMap& labels, const Geometry& grid, const std::string& what,
                            std::vector<std::string>* warnings)
{
    grid.validate("reference image");
    labels.geometry().validate(what);
    if (sameGrid(labels.geometry(), grid)) {
        LabelMap copy(grid);
        copy.labels() = labels.labels();
        copy.segments() = labels.segments();
        return StructureSet::fromLabelMap(copy);
    }
    const Geometry& source = labels.geometry();
    LabelMap resampled(grid);
    resampled.segments() = labels.segments();
    std::int64_t inside = 0;
    const Vec3 stepI = grid.lpsFromIjkLinear().column(0);
    for (std::int64_t k = 0; k < grid.size[2]; ++k)
        for (std::int64_t j = 0; j < grid.size[1]; ++j) {
            const Vec3 rowStartLps = grid.lpsFromIjk({0.0, double(j), double(k)});
            for (std::int64_t i = 0; i < grid.size[0]; ++i) {
                const Vec3 ijk = source.ijkFromLps(rowStartLps + stepI * double(i));
                if (!source.containsIjk(ijk))
                    continue;
                ++inside;
                const std::int64_t si = std::clamp<std::int64_t>(std::llround(ijk.x), 0, source.size[0] - 1);
                const std::int64_t sj = std::clamp<std::int64_t>(std::llround(ijk.y), 0, source.size[1] - 1);
                const std::int64_t sk = std::clamp<std::int64_t>(std::llround(ijk.z), 0, source.size[2] - 1);
                resampled.at(i, j, k) = labels.at(si, sj, sk);
            }
        }
    if (inside == 0)
        throw Error(ErrorCode::InconsistentGeometry, what + " does not overlap the loaded image: it covers " +
                                                         describe(source) + ", the image " + describe(grid));
    if (warnings)
        warnings->push_back(what + ": on another grid (" + describe(source) +
                            "); resampled nearest neighbour onto the image grid");
    return StructureSet::fromLabelMap(resampled);
}

StructureSet importStructures(const std::string& path, const Volume& reference,
                              const StructureImportOptions& options, ProgressSink* progress)
{
    if (reference.empty())
        throw Error(ErrorCode::InvalidArgument,
                    "structure import of " + path + ": no reference image is loaded");
    switch (detectStructureFile(path)) {
    case StructureFileKind::DicomSeg:
        return importDicomSeg(path, reference, progress);
    case StructureFileKind::RtStruct:
        return importRtStruct(path, reference, progress);
    case StructureFileKind::LabelMap:
        break;
    }
    reportProgress(progress, 0.0, "reading label map");
    LabelMap labels = readLabelMap(path);
    std::vector<std::string> warnings;
    if (!options.colorTablePath.empty()) {
        const auto table = readLabelColorTable(options.colorTablePath);
        const int named = applyLabelColorTable(labels, table);
        if (named < static_cast<int>(labels.segments().size()))
            warnings.push_back(options.colorTablePath + ": names " + std::to_string(named) + " of the " +
                               std::to_string(labels.segments().size()) + " label values in " + path);
    }
    throwIfCancelled(progress);
    StructureSet set = labelMapOnGrid(labels, reference.geometry(), path, &warnings);
    for (auto& w : warnings)
        set.warnings().push_back(w);
    reportProgress(progress, 1.0, "reading label map");
    return set;
}

} // namespace np::imaging
