#pragma once
/// The PDF case report a physician files and brings to the room: patient and series, structures
/// (with a warning when nerve roots, vessels or the spinal canal are missing), per target the
/// chosen trajectory with its depth, needle, angles, C-arm views and clearances, and pictures.
/// Written with Qt Gui's QPdfWriter and QTextDocument (no widgets, no display).

#include "needleplan/imaging/DicomDerivedObjects.h"
#include "needleplan/planning/PlanDocument.h"

#include <cstdint>
#include <string>
#include <vector>

namespace np::imaging {
class Volume;
}

namespace np::report {

/// An 8-bit RGB picture with a caption (rows top to bottom, 3 bytes per pixel).
struct ReportPicture
{
    std::string caption;
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;
};

/// Everything the report shows.
struct CaseReportContent
{
    planning::Plan plan;
    imaging::PatientStudySummary patient;
    std::string seriesDescription;
    std::string modality;
    std::string generatedAtUtc; ///< "YYYY-MM-DD HH:MM UTC"
    /// Pictures per target, in plan order (may be fewer than targets).
    std::vector<std::vector<ReportPicture>> picturesByTarget;
    std::vector<std::string> notes; ///< e.g. why a picture is missing
};

/// Structure groups whose absence the report warns about ("nerve roots", "vessels", "spinal canal"):
/// none of the plan's structures has a name that names them.
std::vector<std::string> missingCriticalStructures(const planning::Plan& plan);

/// The report as HTML (what the PDF shows; also for tests).
std::string caseReportHtml(const CaseReportContent& content);

/// Writes the report as an A4 PDF, atomically; throws np::Error(Io) naming the path. Creates a
/// Qt GUI application on the "offscreen" platform when none exists (no display needed).
void writeCaseReportPdf(const CaseReportContent& content, const std::string& path);

/// The CT resliced along the chosen trajectory (the plane holding the needle and the patient's
/// superior axis, or anterior for a craniocaudal needle), window 400/40 HU, with the needle drawn
/// from entry to target; about `sizePixels` wide. No GL.
ReportPicture alongNeedlePicture(const imaging::Volume& ct, const planning::Trajectory& trajectory,
                                 const std::string& caption, int sizePixels = 512);

} // namespace np::report
