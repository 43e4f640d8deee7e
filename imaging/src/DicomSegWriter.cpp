// DICOM SEG export through DCMTK's dcmseg: DcmSegmentation builds the Segmentation IOD's modules,
// functional groups and dimensions; this file maps NeedlePlan's structures onto it.

#include "DicomHeader.h"
#include "DicomObjectSupport.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Version.h"

#include <algorithm>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <memory>
#include <set>

namespace np::imaging {

SegmentCoding genericSegmentCoding()
{
    return {{"SCT", "91723000", "Anatomical Structure"}, {"SCT", "85756007", "Tissue"}, {}};
}

namespace {

using detail::checkDcmtk;
using detail::decimalString;

CodeSequenceMacro codeMacro(const CodedConcept& concept)
{
    return CodeSequenceMacro(concept.value.c_str(), concept.scheme.c_str(), concept.meaning.c_str());
}

/// Keeps a DICOM LO value (Segment Label) within its 64 characters.
std::string longString(const std::string& text)
{
    return text.size() <= 64 ? text : text.substr(0, 64);
}

} // namespace

std::vector<std::string> writeDicomSeg(const StructureSet& structures, const Volume& reference,
                                       const std::string& path, const DicomSegWriteOptions& options)
{
    const std::string what = "DICOM SEG export to " + path;
    detail::registerDicomCodecs(); // also keeps DCMTK's own log off stderr
    const Geometry& grid = reference.geometry();
    grid.validate("reference image");
    const Geometry& own = structures.geometry();
    bool sameDirection = true;
    for (int c = 0; c < 3; ++c)
        sameDirection =
            sameDirection && distance(own.directionLps.column(c), grid.directionLps.column(c)) < 1e-6;
    if (own.size != grid.size || distance(own.originLps, grid.originLps) > 1e-3 ||
        distance(own.spacing, grid.spacing) > 1e-6 || !sameDirection)
        throw Error(ErrorCode::InvalidArgument,
                    what + ": the structures are not on the reference image's grid");
    if (structures.structures().empty())
        throw Error(ErrorCode::InvalidArgument, what + ": there are no structures to write");
    if (grid.size[0] > 65535 || grid.size[1] > 65535)
        throw Error(ErrorCode::Unsupported, what + ": slices larger than 65535 pixels");
    const VolumeInfo& info = reference.info();
    const std::int64_t nx = grid.size[0], ny = grid.size[1], nz = grid.size[2];
    const std::int64_t sliceVoxels = nx * ny;
    const std::size_t expectedVoxels = static_cast<std::size_t>(grid.voxelCount());
    for (const auto& structure : structures.structures())
        if (structure.voxels.size() != expectedVoxels)
            throw Error(ErrorCode::InvalidArgument,
                        what + ": structure '" + structure.segment.name + "' holds no mask for the grid");

    // Frames: for each segment, each slice holding any of its voxels.
    std::vector<std::pair<std::size_t, std::int64_t>> frameList;
    std::set<std::int64_t> usedSlices;
    for (std::size_t s = 0; s < structures.structures().size(); ++s) {
        const auto& voxels = structures.structures()[s].voxels;
        for (std::int64_t k = 0; k < nz; ++k)
            if (std::any_of(voxels.begin() + k * sliceVoxels, voxels.begin() + (k + 1) * sliceVoxels,
                            [](std::uint8_t v) { return v != 0; })) {
                frameList.emplace_back(s, k);
                usedSlices.insert(k);
            }
    }
    if (frameList.empty())
        throw Error(ErrorCode::InvalidArgument, what + ": none of the structures holds a voxel");
    if (frameList.size() > 2147483647u)
        throw Error(ErrorCode::Unsupported, what + ": too many frames for one SEG");

    std::vector<std::string> warnings;
    const detail::SourceStudy source =
        detail::readSourceStudy(info, options.patientName, options.patientId, options.studyUid, warnings);

    IODGeneralEquipmentModule::EquipmentInfo equipment("NeedlePlan", "NeedlePlan", "1",
                                                       softwareVersion().c_str());
    ContentIdentificationMacro content("1", "STRUCTURES", longString(options.seriesDescription).c_str(), "");
    DcmSegmentation* created = nullptr;
    checkDcmtk(DcmSegmentation::createBinarySegmentation(created, static_cast<Uint16>(ny),
                                                         static_cast<Uint16>(nx), equipment, content),
               what, "create the segmentation");
    const std::unique_ptr<DcmSegmentation> seg(created);

    // Patient, study and frame of reference.
    detail::applySourceStudy(source, *seg, what);
    const std::string frameOfReferenceUid = !info.frameOfReferenceUid.empty() ? info.frameOfReferenceUid
                                            : !source.frameOfReferenceUid.empty()
                                                ? source.frameOfReferenceUid
                                                : detail::newUid(SITE_INSTANCE_UID_ROOT);
    checkDcmtk(seg->getFrameOfReference().setFrameOfReferenceUID(frameOfReferenceUid.c_str()), what,
               "set the frame of reference");
    checkDcmtk(
        seg->getSeries().setSeriesInstanceUID(
            (options.seriesUid.empty() ? detail::newUid(SITE_SERIES_UID_ROOT) : options.seriesUid).c_str()),
        what, "set the series UID");
    checkDcmtk(seg->getSeries().setSeriesNumber(std::to_string(options.seriesNumber).c_str()), what,
               "set the series number");
    checkDcmtk(seg->getSeries().setSeriesDescription(longString(options.seriesDescription).c_str()), what,
               "set the series description");
    checkDcmtk(
        seg->getSOPCommon().setSOPInstanceUID(
            (options.sopInstanceUid.empty() ? detail::newUid(SITE_INSTANCE_UID_ROOT) : options.sopInstanceUid)
                .c_str()),
        what, "set the SOP instance UID");
    if (source.lossyCompressed)
        checkDcmtk(
            seg->setLossyImageCompressionFlag(source.lossyRatio.c_str(), source.lossyMethod.c_str(), OFFalse),
            what, "set the lossy compression flag");

    // Segments.
    for (const auto& structure : structures.structures()) {
        SegmentCoding coding = options.coding ? options.coding(structure.segment) : SegmentCoding{};
        if (coding.category.empty() || coding.type.empty())
            coding = genericSegmentCoding();
        DcmSegment* segment = nullptr;
        const std::string label =
            longString(structure.segment.name.empty() ? "structure" : structure.segment.name);
        checkDcmtk(
            DcmSegment::create(segment, label.c_str(), codeMacro(coding.category), codeMacro(coding.type),
                               options.automatic ? DcmSegTypes::SAT_AUTOMATIC : DcmSegTypes::SAT_MANUAL,
                               options.automatic ? "NeedlePlan" : ""),
            what, "create segment '" + label + "'");
        std::unique_ptr<DcmSegment> owned(segment);
        if (!coding.typeModifier.empty())
            owned->getSegmentedPropertyTypeModifierCode().push_back(
                new CodeSequenceMacro(codeMacro(coding.typeModifier)));
        const auto lab = dicomLabFromRgb(structure.segment.colorRgb);
        checkDcmtk(owned->setRecommendedDisplayCIELabValue(lab[0], lab[1], lab[2]), what,
                   "set a segment colour");
        Uint16 number = 0;
        checkDcmtk(seg->addSegment(owned.get(), number), what, "add segment '" + label + "'");
        owned.release(); // the segmentation owns it now
    }

    // Shared functional groups: orientation and pixel measures.
    const Vec3 rowLps = grid.directionLps.column(0), columnLps = grid.directionLps.column(1);
    std::unique_ptr<FGPlaneOrientationPatient> orientation(FGPlaneOrientationPatient::createMinimal(
        decimalString(rowLps.x).c_str(), decimalString(rowLps.y).c_str(), decimalString(rowLps.z).c_str(),
        decimalString(columnLps.x).c_str(), decimalString(columnLps.y).c_str(),
        decimalString(columnLps.z).c_str()));
    if (!orientation)
        throw Error(ErrorCode::Internal, what + ": cannot create the plane orientation");
    checkDcmtk(seg->addForAllFrames(*orientation), what, "add the plane orientation");
    FGPixelMeasures measures;
    checkDcmtk(measures.setPixelSpacing(
                   (decimalString(grid.spacing.y) + "\\" + decimalString(grid.spacing.x)).c_str()),
               what, "set the pixel spacing");
    checkDcmtk(measures.setSliceThickness(decimalString(grid.spacing.z).c_str()), what,
               "set the slice thickness");
    checkDcmtk(measures.setSpacingBetweenSlices(decimalString(grid.spacing.z).c_str()), what,
               "set the spacing between slices");
    checkDcmtk(seg->addForAllFrames(measures), what, "add the pixel measures");

    // Dimensions: segment number, then position along the slice normal.
    const std::string dimensionUid = detail::newUid(SITE_INSTANCE_UID_ROOT);
    IODMultiframeDimensionModule& dimensions = seg->getDimensions();
    checkDcmtk(dimensions.addDimensionIndex(DCM_ReferencedSegmentNumber, dimensionUid.c_str(),
                                            DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber"),
               what, "add the segment dimension");
    checkDcmtk(dimensions.addDimensionIndex(DCM_ImagePositionPatient, dimensionUid.c_str(),
                                            DCM_PlanePositionSequence, "ImagePositionPatient"),
               what, "add the position dimension");

    // Source images (one per CT slice) for the derivation and the common instance reference.
    const bool perSliceSops = info.sliceSopInstanceUids.size() == static_cast<std::size_t>(nz);
    const std::string sourceSopClass =
        source.sopClassUid.empty() ? std::string(UID_CTImageStorage) : source.sopClassUid;
    if (perSliceSops) {
        IODReferences references;
        for (const std::int64_t k : usedSlices)
            references.add(new IODImageReference(
                source.patientId.c_str(), source.studyUid.c_str(), info.seriesUid.c_str(),
                info.sliceSopInstanceUids[static_cast<std::size_t>(k)].c_str(), sourceSopClass.c_str()));
        seg->getCommonInstanceReference().addReferences(references, source.studyUid.c_str());
    }

    // Position index of each used slice (1-based, in slice order).
    std::vector<Uint32> positionIndex(static_cast<std::size_t>(nz), 0);
    Uint32 nextIndex = 1;
    for (const std::int64_t k : usedSlices)
        positionIndex[static_cast<std::size_t>(k)] = nextIndex++;

    std::vector<Uint8> pixels(static_cast<std::size_t>(sliceVoxels));
    for (const auto& [s, k] : frameList) {
        const Vec3 positionLps = grid.lpsFromIjk({0.0, 0.0, double(k)});
        std::unique_ptr<FGPlanePosPatient> position(FGPlanePosPatient::createMinimal(
            decimalString(positionLps.x).c_str(), decimalString(positionLps.y).c_str(),
            decimalString(positionLps.z).c_str()));
        if (!position)
            throw Error(ErrorCode::Internal, what + ": cannot create a plane position");
        FGFrameContent frameContent;
        checkDcmtk(frameContent.setDimensionIndexValues(static_cast<Uint32>(s + 1), 0), what,
                   "set a dimension index");
        checkDcmtk(frameContent.setDimensionIndexValues(positionIndex[static_cast<std::size_t>(k)], 1), what,
                   "set a dimension index");
        OFVector<FGBase*> groups;
        groups.push_back(position.get());
        groups.push_back(&frameContent);
        std::unique_ptr<FGDerivationImage> derivation;
        if (perSliceSops) {
            ImageSOPInstanceReferenceMacro sourceImage;
            checkDcmtk(sourceImage.setReferencedSOPClassUID(sourceSopClass.c_str()), what,
                       "reference a source image");
            checkDcmtk(sourceImage.setReferencedSOPInstanceUID(
                           info.sliceSopInstanceUids[static_cast<std::size_t>(k)].c_str()),
                       what, "reference a source image");
            OFVector<ImageSOPInstanceReferenceMacro> sources;
            sources.push_back(sourceImage);
            derivation.reset(DcmSegmentation::createDerivationImageFG(sources, ""));
            if (!derivation)
                throw Error(ErrorCode::Internal, what + ": cannot create the derivation of a frame");
            groups.push_back(derivation.get());
        }
        const auto& voxels = structures.structures()[s].voxels;
        std::copy(voxels.begin() + k * sliceVoxels, voxels.begin() + (k + 1) * sliceVoxels, pixels.begin());
        checkDcmtk(seg->addFrame(pixels.data(), static_cast<Uint16>(s + 1), groups), what, "add a frame");
    }

    DcmFileFormat file;
    checkDcmtk(seg->writeDataset(*file.getDataset()), what, "build the SEG data set");
    // DCMTK 3.6.7 misplaces the bits of frames whose pixel count is not a multiple of 8, so the
    // Pixel Data is packed here: frames back to back, first pixel in the least significant bit
    // (PS3.5 8.1.1).
    const std::uint64_t totalBits = std::uint64_t(frameList.size()) * std::uint64_t(sliceVoxels);
    std::vector<Uint8> packed(static_cast<std::size_t>((totalBits + 7) / 8), 0);
    std::uint64_t bit = 0;
    for (const auto& [s, k] : frameList) {
        const auto& voxels = structures.structures()[s].voxels;
        const std::size_t first = static_cast<std::size_t>(k * sliceVoxels);
        for (std::int64_t v = 0; v < sliceVoxels; ++v, ++bit)
            if (voxels[first + static_cast<std::size_t>(v)])
                packed[bit >> 3] = static_cast<Uint8>(packed[bit >> 3] | (1u << (bit & 7)));
    }
    checkDcmtk(file.getDataset()->putAndInsertUint8Array(DCM_PixelData, packed.data(),
                                                         static_cast<unsigned long>(packed.size())),
               what, "store the pixel data");
    detail::saveDicomAtomically(path, what, [&](const std::string& temporary) {
        return file.saveFile(temporary.c_str(), EXS_LittleEndianExplicit);
    });
    return warnings;
}

} // namespace np::imaging
