#include "needleplan/imaging/RtStructImport.h"

#include "DcmtkAccess.h"

#include "needleplan/imaging/ContourRasterizer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <algorithm>
#include <cmath>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace np::imaging {

using detail::dicomText;
using detail::sequenceItems;

namespace {

std::string trimmed(std::string s)
{
    s.erase(0, s.find_first_not_of(" \t\r\n"));
    s.erase(s.find_last_not_of(" \t\r\n\0") + 1);
    return s;
}

std::string listOf(const std::set<std::string>& uids, std::size_t limit = 3)
{
    std::ostringstream out;
    std::size_t n = 0;
    for (const auto& uid : uids) {
        if (n == limit) {
            out << ", ...";
            break;
        }
        out << (n ? ", " : "") << uid;
        ++n;
    }
    return out.str();
}

struct Roi
{
    std::string name;
    std::array<double, 3> colorRgb{1.0, 0.0, 0.0};
    std::vector<std::vector<Vec3>> contoursLps;
    std::vector<std::string> contourSopUids; // referenced image of each contour ("" when none)
    bool seen = false;
    std::string interpretedType;     // RTROIInterpretedType from RT ROI Observations ("" when none)
    CodedConcept identificationCode; // RT ROI Identification Code Sequence, when present
};

} // namespace

StructureSet importRtStruct(const std::string& path, const Volume& reference, ProgressSink* progress)
{
    if (reference.empty())
        throw Error(ErrorCode::InvalidArgument,
                    "RTSTRUCT import of " + path + ": no reference image is loaded");
    reference.geometry().validate("reference image");
    reportProgress(progress, 0.0, "reading RTSTRUCT");
    DcmFileFormat file;
    const OFCondition status = detail::loadDicomFile(file, path);
    if (status.bad())
        throw Error(ErrorCode::NotDicom, path + ": cannot read as DICOM (" + status.text() + ")");
    DcmDataset& data = *file.getDataset();
    const std::string sopClass = dicomText(&data, DCM_SOPClassUID);
    const std::string modality = trimmed(dicomText(&data, DCM_Modality));
    if (sopClass != UID_RTStructureSetStorage && modality != "RTSTRUCT")
        throw Error(ErrorCode::NotDicom, path + ": not an RT Structure Set (modality '" + modality + "')");

    StructureSet result(reference.geometry());
    auto warn = [&](const std::string& text) { result.warnings().push_back(path + ": " + text); };
    const VolumeInfo& info = reference.info();

    // References: frame of reference, series, and the images of the series.
    std::set<std::string> referencedFrames, referencedSeries;
    for (DcmItem* frame : sequenceItems(data, DCM_ReferencedFrameOfReferenceSequence)) {
        const std::string frameUid = trimmed(dicomText(frame, DCM_FrameOfReferenceUID));
        if (!frameUid.empty())
            referencedFrames.insert(frameUid);
        for (DcmItem* study : sequenceItems(*frame, DCM_RTReferencedStudySequence))
            for (DcmItem* series : sequenceItems(*study, DCM_RTReferencedSeriesSequence)) {
                const std::string seriesUid = trimmed(dicomText(series, DCM_SeriesInstanceUID));
                if (!seriesUid.empty())
                    referencedSeries.insert(seriesUid);
            }
    }
    if (referencedSeries.empty())
        warn("missing reference: the structure set names no referenced CT series (no RT Referenced Series "
             "Sequence); contours are placed by their coordinates alone");
    else if (!info.seriesUid.empty() && !referencedSeries.count(info.seriesUid))
        warn("wrong reference: the structure set refers to series " + listOf(referencedSeries) +
             " but the loaded series is " + info.seriesUid +
             "; contours are placed by their coordinates alone");
    if (!info.frameOfReferenceUid.empty() && !referencedFrames.empty() &&
        !referencedFrames.count(info.frameOfReferenceUid))
        warn("frame of reference " + listOf(referencedFrames) + " differs from the loaded image's " +
             info.frameOfReferenceUid + "; contours are placed by their coordinates alone");

    // ROIs by number, in file order.
    std::vector<int> order;
    std::map<int, Roi> rois;
    for (DcmItem* item : sequenceItems(data, DCM_StructureSetROISequence)) {
        Sint32 number = 0;
        if (item->findAndGetSint32(DCM_ROINumber, number).bad()) {
            warn("a Structure Set ROI item has no ROI Number and is skipped");
            continue;
        }
        if (rois.count(number)) {
            warn("ROI number " + std::to_string(number) +
                 " is defined twice; the second definition is skipped");
            continue;
        }
        Roi roi;
        roi.name = trimmed(dicomText(item, DCM_ROIName));
        if (roi.name.empty())
            roi.name = "roi_" + std::to_string(number);
        rois[number] = roi;
        order.push_back(number);
    }

    int openOrPointContours = 0, unknownRoiRefs = 0, badContourData = 0;
    for (DcmItem* item : sequenceItems(data, DCM_ROIContourSequence)) {
        Sint32 number = 0;
        if (item->findAndGetSint32(DCM_ReferencedROINumber, number).bad() || !rois.count(number)) {
            ++unknownRoiRefs;
            continue;
        }
        Roi& roi = rois[number];
        roi.seen = true;
        Sint32 rgb[3];
        bool colorOk = true;
        for (unsigned long c = 0; c < 3; ++c)
            colorOk = colorOk && item->findAndGetSint32(DCM_ROIDisplayColor, rgb[c], c).good();
        if (colorOk)
            for (int c = 0; c < 3; ++c)
                roi.colorRgb[static_cast<std::size_t>(c)] = std::clamp(rgb[c], 0, 255) / 255.0;
        for (DcmItem* contour : sequenceItems(*item, DCM_ContourSequence)) {
            const std::string type = trimmed(dicomText(contour, DCM_ContourGeometricType));
            if (type != "CLOSED_PLANAR") {
                ++openOrPointContours;
                continue;
            }
            DcmElement* element = nullptr;
            if (contour->findAndGetElement(DCM_ContourData, element).bad() || !element) {
                ++badContourData;
                continue;
            }
            const unsigned long values = element->getVM();
            if (values < 9 || values % 3 != 0) {
                ++badContourData;
                continue;
            }
            std::vector<Vec3> points;
            points.reserve(values / 3);
            bool ok = true;
            for (unsigned long v = 0; v + 2 < values && ok; v += 3) {
                Float64 x = 0, y = 0, z = 0;
                ok = element->getFloat64(x, v).good() && element->getFloat64(y, v + 1).good() &&
                     element->getFloat64(z, v + 2).good();
                points.push_back({x, y, z});
            }
            if (!ok) {
                ++badContourData;
                continue;
            }
            std::string sopUid;
            const auto images = sequenceItems(*contour, DCM_ContourImageSequence);
            if (!images.empty())
                sopUid = trimmed(dicomText(images.front(), DCM_ReferencedSOPInstanceUID));
            roi.contoursLps.push_back(std::move(points));
            roi.contourSopUids.push_back(sopUid);
        }
    }
    // Interpreted types and identification codes (RT ROI Observations), used to classify ROIs.
    for (DcmItem* item : sequenceItems(data, DCM_RTROIObservationsSequence)) {
        Sint32 number = 0;
        if (item->findAndGetSint32(DCM_ReferencedROINumber, number).bad() || !rois.count(number))
            continue;
        Roi& roi = rois[number];
        roi.interpretedType = trimmed(dicomText(item, DCM_RTROIInterpretedType));
        const auto codes = sequenceItems(*item, DCM_RTROIIdentificationCodeSequence);
        if (!codes.empty())
            roi.identificationCode = {trimmed(dicomText(codes.front(), DCM_CodingSchemeDesignator)),
                                      trimmed(dicomText(codes.front(), DCM_CodeValue)),
                                      trimmed(dicomText(codes.front(), DCM_CodeMeaning))};
    }

    if (openOrPointContours)
        warn(std::to_string(openOrPointContours) +
             " contours are not CLOSED_PLANAR (points or open lines) and are skipped");
    if (badContourData)
        warn(std::to_string(badContourData) + " contours have malformed Contour Data and are skipped");
    if (unknownRoiRefs)
        warn(std::to_string(unknownRoiRefs) + " ROI Contour items refer to no defined ROI and are skipped");

    const std::set<std::string> loadedSops(info.sliceSopInstanceUids.begin(),
                                           info.sliceSopInstanceUids.end());
    std::set<std::string> missingSlices;
    int contoursOnMissingSlices = 0, contoursPlacedDespiteReference = 0, contoursOffGrid = 0,
        contoursTilted = 0, contoursDegenerate = 0, totalContours = 0, usedContours = 0;
    std::size_t done = 0;
    for (const int number : order) {
        throwIfCancelled(progress);
        Roi& roi = rois[number];
        auto& mask = result.add(roi.name, roi.colorRgb);
        mask.segment.rtInterpretedType = roi.interpretedType;
        mask.segment.typeCode = roi.identificationCode;
        if (roi.contoursLps.empty())
            warn("ROI '" + roi.name + "' has no closed contours; it is kept empty");
        // All contours of the ROI are filled together so that holes and islands combine
        // even-odd; the classification below only words the warnings.
        rasterizeContours(roi.contoursLps, reference.geometry(), mask.voxels);
        for (std::size_t c = 0; c < roi.contoursLps.size(); ++c) {
            ++totalContours;
            const std::string& sop = roi.contourSopUids[c];
            const Geometry& g = reference.geometry();
            double minK = std::numeric_limits<double>::infinity(),
                   maxK = -std::numeric_limits<double>::infinity(), sumK = 0.0;
            for (const Vec3& p : roi.contoursLps[c]) {
                const double k = g.ijkFromLps(p).z;
                minK = std::min(minK, k);
                maxK = std::max(maxK, k);
                sumK += k;
            }
            const double meanK = sumK / double(roi.contoursLps[c].size());
            const bool tilted = maxK - minK > 0.5;
            const bool offGrid =
                !tilted && (std::abs(meanK - std::round(meanK)) > 0.25 || std::round(meanK) < 0.0 ||
                            std::round(meanK) > double(g.size[2] - 1));
            const bool degenerate = !std::isfinite(meanK);
            const bool usable = !degenerate && !tilted && !offGrid;
            if (!sop.empty() && !loadedSops.empty() && !loadedSops.count(sop)) {
                missingSlices.insert(sop);
                if (usable)
                    ++contoursPlacedDespiteReference;
                else
                    ++contoursOnMissingSlices;
            } else if (degenerate) {
                ++contoursDegenerate;
            } else if (tilted) {
                ++contoursTilted;
            } else if (offGrid) {
                ++contoursOffGrid;
            }
            if (usable)
                ++usedContours;
        }
        reportProgress(progress, double(++done) / double(std::max<std::size_t>(order.size(), 1)),
                       "rasterising contours");
    }
    if (contoursOnMissingSlices)
        warn(std::to_string(contoursOnMissingSlices) + " contours reference " +
             std::to_string(missingSlices.size()) +
             std::string(missingSlices.size() == 1 ? " slice that is" : " slices that are") +
             " not loaded (SOP Instance UIDs " + listOf(missingSlices) + "); they are skipped");
    if (contoursPlacedDespiteReference)
        warn(std::to_string(contoursPlacedDespiteReference) +
             " contours reference images that are not among the loaded slices but lie on loaded slices; they "
             "are "
             "placed by their coordinates");
    if (contoursOffGrid)
        warn(std::to_string(contoursOffGrid) + " contours lie outside the loaded slices and are skipped");
    if (contoursTilted)
        warn(std::to_string(contoursTilted) +
             " contours are not parallel to the loaded slices and are skipped");
    if (contoursDegenerate)
        warn(std::to_string(contoursDegenerate) + " contours have non-finite coordinates and are skipped");
    if (totalContours > 0 && usedContours == 0)
        throw Error(ErrorCode::InconsistentGeometry,
                    path + ": none of its " + std::to_string(totalContours) +
                        " contours lies on a slice of the loaded image (wrong or missing reference image?)");
    return result;
}

} // namespace np::imaging
