#pragma once
/// The PDF case report a physician files and brings to the room: patient and series, structures
/// (with a warning when nerve roots, vessels or the spinal canal are missing), per target the
/// chosen trajectory with its depth, needle, angles, C-arm views and clearances, and pictures.
/// Written with Qt Gui's QPdfWriter and QTextDocument (no widgets, no display).

#include "needleplan/imaging/DicomDerivedObjects.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/TrajectoryAngles.h"

#include <cstdint>
#include <string>
#include <vector>

namespace np {
class ProgressSink;
}
namespace np::imaging {
class AttenuationVolume;
class Volume;
} // namespace np::imaging

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
    /// Pictures of the whole plan shown before the targets (the workstation's 3D view).
    std::vector<ReportPicture> overviewPictures;
    /// Pictures per target, in plan order (may be fewer than targets).
    std::vector<std::vector<ReportPicture>> picturesByTarget;
    std::vector<std::string> notes; ///< e.g. why a picture is missing
};

/// Structure groups whose absence the report warns about ("nerve roots", "vessels", "spinal canal"):
/// none of the plan's structures has a name that names them.
std::vector<std::string> missingCriticalStructures(const planning::Plan& plan);

/// Where a structure came from, read from the plan's structures description (the sources joined by
/// "; "): the only source; the automatic segmentation when it lists the structure ("automatic
/// segmentation (body,bone,...)"); else the other sources together. "(not stated)" when the plan
/// names none.
std::string structureSource(const planning::Plan& plan, const std::string& structureName);

/// The trajectory the report shows for a target: the one selected in the workstation
/// ("search-selected"), else the lowest rank (a manual trajectory in use is rank 0); nullptr when
/// there is none.
const planning::PlannedTrajectory* chosenTrajectory(const planning::PlanTarget& target);

/// "YYYY-MM-DD HH:MM UTC" of now.
std::string currentTimeUtc();

/// The report as HTML (what the PDF shows; also for tests).
std::string caseReportHtml(const CaseReportContent& content);

/// Writes the report as an A4 PDF, atomically; throws np::Error(Io) naming the path. Creates a
/// Qt GUI application on the "offscreen" platform when none exists (no display needed).
void writeCaseReportPdf(const CaseReportContent& content, const std::string& path);

/// Writes the report PDF `pdfPath` as DICOM Encapsulated PDF (`report.dcm`) and every picture
/// (overview first) as one Secondary Capture series (`picture_N.dcm`) into `folder` (created), in the
/// study and patient of `ct`. Returns the paths written; warnings (an unreadable CT source file) are
/// appended to `warnings`. Throws np::Error (Io, NotFound, CorruptData) naming the file.
std::vector<std::string> writeCaseReportDicom(const CaseReportContent& content, const std::string& pdfPath,
                                              const imaging::VolumeInfo& ct, const std::string& folder,
                                              std::vector<std::string>& warnings);

/// The CT resliced along the chosen trajectory (the plane holding the needle and the patient's
/// superior axis, or anterior for a craniocaudal needle), window 400/40 HU, with the needle drawn
/// from entry to target; about `sizePixels` wide. No GL.
ReportPicture alongNeedlePicture(const imaging::Volume& ct, const planning::Trajectory& trajectory,
                                 const std::string& caption, int sizePixels = 512);

/// Which C-arm view a DRR shows.
enum class DrrView
{
    Bullseye,    ///< the beam along the needle: entry and target on one pixel
    Progression, ///< the beam across the needle: its depth
};

/// A DRR (digitally reconstructed radiograph) of the CT for the trajectory's bull's-eye or
/// progression view, as the fluoroscope shows it (dense bone dark), with the needle drawn from entry
/// to target (yellow) and the target marked (red). Isocentre at the target, source to detector
/// 1000 mm, source to isocentre 750 mm, a 300 mm square detector of `sizePixels` square pixels.
ReportPicture drrPicture(const imaging::AttenuationVolume& attenuation,
                         const planning::Trajectory& trajectory, planning::PatientPosition position,
                         DrrView view, const std::string& caption, int sizePixels = 384);

/// A 3D view without OpenGL: the bone surface of the CT (HU >= `boneHu`, ray-cast on the CPU and
/// lit from the viewer) around the trajectory, seen across the needle from the table's up side
/// (orthographic, superior up), with the needle drawn yellow where it is in front of the bone,
/// orange and dotted where bone hides it, and the target red. `sizePixels` square, 40 mm around
/// the needle; bone within 120 mm of the plane through the needle; 0.5 mm steps along each ray,
/// refined to 0.03 mm at the surface.
ReportPicture surfaceViewPicture(const imaging::Volume& ct, const planning::Trajectory& trajectory,
                                 planning::PatientPosition position, const std::string& caption,
                                 int sizePixels = 384, double boneHu = 250.0);

/// The report of `plan` on its CT: patient and series from the CT's DICOM source, and per target the
/// chosen trajectory's 3D bone surface view (surfaceViewPicture), along-needle reslice and bull's-eye
/// and progression DRRs. `ct` may be null
/// (no patient data, no pictures: said in the notes). Throws np::Error(Cancelled) when `progress`
/// asks to stop.
CaseReportContent caseReportContent(const planning::Plan& plan, const imaging::Volume* ct,
                                    ProgressSink* progress = nullptr);

} // namespace np::report
