#include "needleplan/report/CaseReport.h"

#include "needleplan/imaging/AtomicFile.h"
#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Version.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/render/SliceGeometry.h"

#include <QBuffer>
#include <QByteArray>
#include <QGuiApplication>
#include <QImage>
#include <QPageLayout>
#include <QPageSize>
#include <QPdfWriter>
#include <QTextDocument>
#include <QUrl>
#include <QVariant>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <memory>
#include <thread>

namespace np::report {

namespace {

std::string escape(const std::string& text)
{
    std::string out;
    for (const char c : text)
        switch (c) {
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '&':
            out += "&amp;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    return out;
}

std::string fixed(double value, int decimals = 1)
{
    if (!std::isfinite(value))
        return "-";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}

std::string point(const Vec3& p)
{
    return "(" + fixed(p.x) + ", " + fixed(p.y) + ", " + fixed(p.z) + ")";
}

std::string dicomDate(const std::string& date)
{
    return date.size() == 8 ? date.substr(0, 4) + "-" + date.substr(4, 2) + "-" + date.substr(6, 2) : date;
}

std::string personName(const std::string& name)
{
    std::string out = name;
    std::replace(out.begin(), out.end(), '^', ' ');
    return out;
}

std::string lower(std::string text)
{
    for (char& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string row(std::initializer_list<std::string> cells, bool header = false)
{
    std::string html = "<tr>";
    for (const auto& cell : cells)
        html += (header ? "<th align=\"left\">" : "<td>") + cell + (header ? "</th>" : "</td>");
    return html + "</tr>\n";
}

/// Picture group of the overview pictures (targets are 0, 1, ...).
constexpr std::size_t kOverview = static_cast<std::size_t>(-1);

std::string pictureUrl(std::size_t target, std::size_t index)
{
    return "picture:" + (target == kOverview ? std::string("overview") : std::to_string(target)) + "_" +
           std::to_string(index);
}

/// An <img> of `widthPixels` (at 96 per inch) keeping the picture's aspect ratio (Qt does not
/// scale the height when only the width is given).
std::string imageTag(const ReportPicture& picture, const std::string& url, int widthPixels)
{
    const int height =
        picture.width > 0
            ? static_cast<int>(std::lround(double(widthPixels) * picture.height / picture.width))
            : widthPixels;
    return "<img src=\"" + url + "\" width=\"" + std::to_string(widthPixels) + "\" height=\"" +
           std::to_string(height) + "\">";
}

void ensureGuiApplication()
{
    if (QGuiApplication::instance())
        return;
    // No window is ever shown here: the off-screen platform, whatever the environment asks for
    // (an "xcb" without an X server would abort the process).
    qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "needleplan-report";
    static char* argv[] = {name, nullptr};
    // Lives until the process ends (never destroyed: Qt's own statics would be gone by then).
    static QGuiApplication* application = new QGuiApplication(argc, argv);
    (void)application;
}

} // namespace

const planning::PlannedTrajectory* chosenTrajectory(const planning::PlanTarget& target)
{
    const planning::PlannedTrajectory* chosen = nullptr;
    for (const auto& p : target.trajectories) {
        if (p.origin == "search-selected")
            return &p; // the workstation's selected search result
        if (!chosen || p.rank < chosen->rank)
            chosen = &p;
    }
    return chosen;
}

std::string currentTimeUtc()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
    return text;
}

std::string structureSource(const planning::Plan& plan, const std::string& structureName)
{
    std::vector<std::string> sources;
    const std::string& all = plan.image.structuresPath;
    for (std::size_t start = 0; start < all.size();) {
        const std::size_t end = std::min(all.find("; ", start), all.size());
        if (end > start)
            sources.push_back(all.substr(start, end - start));
        start = end + 2;
    }
    if (sources.empty())
        return "(not stated)";
    if (sources.size() == 1)
        return sources.front();
    const std::string automatic = "automatic segmentation (";
    std::string files;
    for (const auto& source : sources) {
        if (source.rfind(automatic, 0) == 0 && source.back() == ')') {
            const std::string list =
                "," + lower(source.substr(automatic.size(), source.size() - automatic.size() - 1)) + ",";
            if (list.find("," + lower(structureName) + ",") != std::string::npos)
                return "automatic segmentation";
            continue;
        }
        files += (files.empty() ? "" : "; ") + source;
    }
    return files.empty() ? "(not stated)" : files;
}

std::vector<std::string> missingCriticalStructures(const planning::Plan& plan)
{
    struct Group
    {
        const char* what;
        std::vector<const char*> words;
    };
    const Group groups[] = {
        {"nerve roots", {"nerve", "root", "ramus", "ganglion"}},
        {"vessels", {"aorta", "artery", "vein", "vena", "ivc", "vessel", "iliac_a", "iliac_v"}},
        {"spinal canal", {"canal", "dura", "thecal", "cord", "csf"}},
    };
    std::vector<std::string> missing;
    for (const auto& group : groups) {
        bool found = false;
        for (const auto& s : plan.structures)
            for (const char* word : group.words)
                found = found || lower(s.name).find(word) != std::string::npos;
        if (!found)
            missing.push_back(group.what);
    }
    return missing;
}

std::string caseReportHtml(const CaseReportContent& content)
{
    const planning::Plan& plan = content.plan;
    const imaging::PatientStudySummary& patient = content.patient;
    std::string h = "<html><body style=\"font-family: sans-serif; font-size: 9pt\">\n";
    h += "<h1>NeedlePlan case report</h1>\n";
    h += "<p><b>Planning aid only.</b> Every trajectory must be checked by the physician on the patient's "
         "images and under fluoroscopy; NeedlePlan does not replace clinical judgement.</p>\n";

    h += "<h2>Patient and images</h2>\n<table cellspacing=\"0\" cellpadding=\"2\">\n";
    h += row(
        {"Patient", escape(personName(patient.patientName.empty() ? "(not stated)" : patient.patientName))});
    h += row({"Patient ID", escape(patient.patientId.empty() ? "(not stated)" : patient.patientId)});
    h += row({"Birth date, sex", escape(dicomDate(patient.birthDate)) + ", " + escape(patient.sex)});
    h += row({"Study",
              escape(dicomDate(patient.studyDate)) + " " + escape(patient.studyDescription) +
                  (patient.accessionNumber.empty() ? "" : ", accession " + escape(patient.accessionNumber))});
    h += row({"Study UID", escape(patient.studyUid)});
    h += row({"Series", escape(content.modality) + " " + escape(content.seriesDescription)});
    h += row({"Series UID", escape(plan.image.seriesUid)});
    h += row({"Frame of reference", escape(plan.image.frameOfReferenceUid)});
    h += row({"Patient position", escape(plan.image.patientPosition.empty() ? "(not stated; HFS assumed)"
                                                                            : plan.image.patientPosition)});
    h += row({"Image", escape(plan.image.path)});
    h += "</table>\n";

    h += "<h2>Structures</h2>\n";
    h += "<p>Source: " +
         escape(plan.image.structuresPath.empty() ? "(not stated)" : plan.image.structuresPath) + "</p>\n";
    const auto missing = missingCriticalStructures(plan);
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing)
            list += (list.empty() ? "" : ", ") + m;
        h += "<table border=\"2\" cellpadding=\"6\" cellspacing=\"0\" width=\"100%\"><tr><td "
             "style=\"color: #b00000\"><b>WARNING: no " +
             escape(list) +
             " among the structures.</b> The trajectories were not checked against them: their clearance "
             "from these structures is unknown. Check them on the images before the "
             "procedure.</td></tr></table>\n";
    }
    // One source: said above, no column. Ignored structures (skin, fat, ...) in one line.
    const bool severalSources = plan.image.structuresPath.find("; ") != std::string::npos;
    h += "<table border=\"1\" cellspacing=\"0\" cellpadding=\"2\">\n";
    h += severalSources ? row({"Structure", "Class", "Margin (mm)", "Source"}, true)
                        : row({"Structure", "Class", "Margin (mm)"}, true);
    std::string ignored;
    for (const auto& s : plan.structures) {
        if (s.structureClass == planning::StructureClass::Ignored) {
            ignored += (ignored.empty() ? "" : ", ") + escape(s.name);
            continue;
        }
        h += severalSources ? row({escape(s.name), planning::toString(s.structureClass), fixed(s.marginMm),
                                   escape(structureSource(plan, s.name))})
                            : row({escape(s.name), planning::toString(s.structureClass), fixed(s.marginMm)});
    }
    h += "</table>\n";
    if (!ignored.empty())
        h += "<p>Not checked (class ignored): " + ignored + ".</p>\n";
    if (plan.structures.empty())
        h += "<p style=\"color: #b00000\"><b>The plan lists no structures.</b></p>\n";
    for (std::size_t p = 0; p < content.overviewPictures.size(); ++p)
        h += "<p>" + imageTag(content.overviewPictures[p], pictureUrl(kOverview, p), 440) + "<br>" +
             escape(content.overviewPictures[p].caption) + "</p>\n";

    h += "<h2>Needle</h2>\n<p>" + escape(plan.needle.name) + ": " + std::to_string(plan.needle.gauge) +
         " G, outer "
         "diameter " +
         fixed(plan.needle.outerDiameterMm, 2) + " mm, usable length " + fixed(plan.needle.usableLengthMm) +
         " mm" +
         (plan.needle.activeTipMm > 0 ? ", active tip " + fixed(plan.needle.activeTipMm) + " mm" : "") +
         "</p>\n";

    for (std::size_t t = 0; t < plan.targets.size(); ++t) {
        const planning::PlanTarget& target = plan.targets[t];
        h += "<h2>Target: " + escape(target.name) + "</h2>\n";
        h += "<p>Target " + point(target.targetLps) + " LPS mm" +
             (target.preset.empty() ? "" : ", preset " + escape(target.preset)) + "</p>\n";
        const planning::PlannedTrajectory* chosen = chosenTrajectory(target);
        if (!chosen) {
            h += "<p style=\"color: #b00000\"><b>No trajectory</b> meets the constraints for this "
                 "target.</p>\n";
            continue;
        }
        const planning::Evaluation& e = chosen->evaluation;
        const planning::TrajectoryAngles& a = e.angles;
        // A trajectory placed by hand and never checked has no verdict, no clearances and no depth:
        // say so rather than print zeros.
        const bool evaluated = e.safe || !e.clearances.empty() || !e.reasons.empty() || e.skinFound;
        const std::string verdict =
            !evaluated ? "<span style=\"color: #b00000\">NOT EVALUATED (clearances unknown; check it before "
                         "use)</span>"
            : e.safe   ? std::string("SAFE")
                       : std::string("<span style=\"color: #b00000\">UNSAFE</span>");
        h += "<h3>Chosen trajectory: rank " + std::to_string(chosen->rank) + " (" + escape(chosen->origin) +
             "), " + verdict + "</h3>\n";
        h += "<table cellspacing=\"0\" cellpadding=\"2\">\n";
        h += row({"Entry (LPS mm)", point(chosen->trajectory.entryLps)});
        h += row({"Skin entry (LPS mm)", e.skinFound ? point(e.skinEntryLps) : "(skin not found)"});
        h += row({"Length entry to target",
                  fixed(distance(chosen->trajectory.entryLps, chosen->trajectory.targetLps)) + " mm"});
        h += row({"Depth from skin", evaluated ? fixed(e.depthFromSkinMm) + " mm" : "(not evaluated)"});
        h += row({"Needle", escape(chosen->trajectory.needle.name) + " (usable " +
                                fixed(chosen->trajectory.needle.usableLengthMm) + " mm)"});
        h += row({"Craniocaudal", fixed(a.craniocaudalDeg) + " deg " + escape(a.craniocaudalName)});
        h += row({"Mediolateral", fixed(a.mediolateralDeg) + " deg toward " + escape(a.mediolateralSide) +
                                      (a.towardMidline ? (*a.towardMidline ? " (toward the midline)"
                                                                           : " (away from the midline)")
                                                       : "")});
        h += row({"C-arm bull's-eye", "DICOM primary " + fixed(a.bullseye.primaryDeg) + " deg, secondary " +
                                          fixed(a.bullseye.secondaryDeg) + " deg; table oblique " +
                                          fixed(a.bullseye.obliqueDeg) + " deg, tilt " +
                                          fixed(a.bullseye.tiltDeg) + " deg"});
        h += row({"C-arm progression", "DICOM primary " + fixed(a.progression.primaryDeg) +
                                           " deg, secondary " + fixed(a.progression.secondaryDeg) +
                                           " deg; table oblique " + fixed(a.progression.obliqueDeg) +
                                           " deg, tilt " + fixed(a.progression.tiltDeg) + " deg"});
        h += "</table>\n";
        for (const auto& reason : e.reasons)
            h += "<p>" + escape(reason) + "</p>\n";
        for (const auto& warning : e.warnings)
            h += "<p>Warning: " + escape(warning) + "</p>\n";
        h += "<p><b>Clearances</b> (needle surface to structure, mm)</p>\n";
        h += "<table border=\"1\" cellspacing=\"0\" cellpadding=\"2\">\n" +
             row({"Structure", "Class", "Clearance", "Margin", "Depth from entry", ""}, true);
        // Tightest first: smallest clearance beyond the margin.
        std::vector<planning::StructureClearance> clearances = e.clearances;
        std::stable_sort(clearances.begin(), clearances.end(), [](const auto& first, const auto& second) {
            return first.clearanceMm - first.marginMm < second.clearanceMm - second.marginMm;
        });
        for (const auto& c : clearances)
            h += row({escape(c.structure), planning::toString(c.structureClass), fixed(c.clearanceMm),
                      fixed(c.marginMm), fixed(c.depthFromEntryMm), c.violated ? "VIOLATED" : ""});
        h += "</table>\n";
        if (target.trajectories.size() > 1) {
            h += "<p>Other ranked trajectories:</p><ul>\n";
            for (const auto& p : target.trajectories)
                if (&p != chosen)
                    h += "<li>#" + std::to_string(p.rank) + ": entry " + point(p.trajectory.entryLps) +
                         ", depth " + fixed(p.evaluation.depthFromSkinMm) + " mm, " +
                         (p.evaluation.safe ? "safe" : "unsafe") + "</li>\n";
            h += "</ul>\n";
        }
        if (t < content.picturesByTarget.size() && !content.picturesByTarget[t].empty()) {
            // Two pictures a line (2 x 250 px fit the 140 mm that print() leaves inside its own 2 cm
            // margins), their captions in the paragraph below. Images inline in a
            // paragraph are never split across pages (table cells can be).
            const auto& pictures = content.picturesByTarget[t];
            for (std::size_t p = 0; p < pictures.size(); p += 2) {
                const bool pair = p + 1 < pictures.size();
                h += "<p>" + imageTag(pictures[p], pictureUrl(t, p), 250);
                if (pair)
                    h += "&nbsp;&nbsp;" + imageTag(pictures[p + 1], pictureUrl(t, p + 1), 250);
                h += "</p>\n<p>" + std::string(pair ? "<i>Left:</i> " : "") + escape(pictures[p].caption) +
                     (pair ? ". <i>Right:</i> " + escape(pictures[p + 1].caption) : std::string()) +
                     ".</p>\n";
            }
        }
    }
    for (const auto& note : content.notes)
        h += "<p>Note: " + escape(note) + "</p>\n";
    h += "<hr><p>NeedlePlan " + escape(imaging::softwareVersion()) + ", report generated " +
         escape(content.generatedAtUtc) + ". " +
         escape(plan.createdWith.empty() ? "" : "Plan made with " + plan.createdWith + ".") +
         " Positions are DICOM patient coordinates (LPS, mm); angles in degrees.</p>\n";
    h += "<p><b>Planning aid only; not a substitute for imaging guidance during the procedure.</b></p>\n";
    h += "</body></html>\n";
    return h;
}

void writeCaseReportPdf(const CaseReportContent& content, const std::string& path)
{
    ensureGuiApplication();
    QByteArray bytes;
    {
        QBuffer buffer(&bytes);
        buffer.open(QIODevice::WriteOnly);
        QPdfWriter writer(&buffer);
        writer.setPageSize(QPageSize(QPageSize::A4));
        writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout::Millimeter);
        writer.setResolution(300);
        writer.setTitle("NeedlePlan case report");
        writer.setCreator(QString::fromStdString("NeedlePlan " + imaging::softwareVersion()));
        QTextDocument document;
        auto addPicture = [&](const ReportPicture& picture, const std::string& url) {
            if (picture.width <= 0 || picture.height <= 0 ||
                picture.rgb.size() != std::size_t(picture.width) * std::size_t(picture.height) * 3)
                return;
            const QImage image(picture.rgb.data(), picture.width, picture.height, picture.width * 3,
                               QImage::Format_RGB888);
            document.addResource(QTextDocument::ImageResource, QUrl(QString::fromStdString(url)),
                                 QVariant::fromValue(image.copy()));
        };
        for (std::size_t p = 0; p < content.overviewPictures.size(); ++p)
            addPicture(content.overviewPictures[p], pictureUrl(kOverview, p));
        for (std::size_t t = 0; t < content.picturesByTarget.size(); ++t)
            for (std::size_t p = 0; p < content.picturesByTarget[t].size(); ++p)
                addPicture(content.picturesByTarget[t][p], pictureUrl(t, p));
        document.setHtml(QString::fromStdString(caseReportHtml(content)));
        // print() lays the document out again at the writer's resolution and paginates it (pt
        // sizes and 96-dpi image widths are scaled).
        document.print(&writer);
    }
    if (bytes.isEmpty())
        throw Error(ErrorCode::Io, path + ": the PDF writer produced nothing");
    // Temporary file, flush, rename (AtomicFile.h): a reader never sees half a report.
    imaging::writeFileAtomically(path,
                                 std::string(bytes.constData(), static_cast<std::size_t>(bytes.size())));
}

std::vector<std::string> writeCaseReportDicom(const CaseReportContent& content, const std::string& pdfPath,
                                              const imaging::VolumeInfo& ct, const std::string& folder,
                                              std::vector<std::string>& warnings)
{
    std::error_code folderError;
    std::filesystem::create_directories(folder, folderError);
    if (folderError)
        throw Error(ErrorCode::Io, folder + ": cannot create the folder (" + folderError.message() + ")");
    std::vector<std::string> written;
    imaging::DerivedObjectOptions options;
    options.seriesDescription = "NeedlePlan case report";
    const std::string pdfObject = (std::filesystem::path(folder) / "report.dcm").string();
    for (auto& warning :
         imaging::writeEncapsulatedPdf(pdfPath, "NeedlePlan case report", ct, pdfObject, options))
        warnings.push_back(std::move(warning));
    written.push_back(pdfObject);
    imaging::DerivedObjectOptions pictureOptions;
    pictureOptions.seriesDescription = "NeedlePlan pictures";
    pictureOptions.seriesNumber = 902;
    pictureOptions.seriesUid = imaging::newSeriesInstanceUid(); // one series for all pictures
    std::vector<const ReportPicture*> pictures;
    for (const auto& picture : content.overviewPictures)
        pictures.push_back(&picture);
    for (const auto& targetPictures : content.picturesByTarget)
        for (const auto& picture : targetPictures)
            pictures.push_back(&picture);
    int instance = 0;
    for (const ReportPicture* picture : pictures) {
        pictureOptions.instanceNumber = ++instance;
        const imaging::RgbPicture rgb{picture->width, picture->height, picture->rgb};
        const std::string path =
            (std::filesystem::path(folder) / ("picture_" + std::to_string(instance) + ".dcm")).string();
        for (auto& warning : imaging::writeSecondaryCapture(rgb, picture->caption, ct, path, pictureOptions))
            warnings.push_back(std::move(warning));
        written.push_back(path);
    }
    return written;
}

ReportPicture alongNeedlePicture(const imaging::Volume& ct, const planning::Trajectory& trajectory,
                                 const std::string& caption, int sizePixels)
{
    ReportPicture picture;
    picture.caption = caption;
    const Vec3 alongLps = normalized(trajectory.targetLps - trajectory.entryLps);
    const Vec3 superiorLps{0, 0, 1}, anteriorLps{0, -1, 0};
    const Vec3 upLps = std::abs(dot(alongLps, superiorLps)) < 0.9 ? superiorLps : anteriorLps;
    render::PlaneFrame frame;
    frame.centreLps = (trajectory.entryLps + trajectory.targetLps) * 0.5;
    frame.axes = render::axesFromRightUp(alongLps, upLps);
    const double length = distance(trajectory.entryLps, trajectory.targetLps);
    const double halfWidthMm = length / 2 + 30.0, halfHeightMm = halfWidthMm * 0.75;
    const imaging::Geometry& g = ct.geometry();
    const double finest = std::min({g.spacing.x, g.spacing.y, g.spacing.z});
    render::SliceGrid grid;
    grid.pixelMm = std::max(finest, 2 * halfWidthMm / std::max(64, sizePixels));
    grid.width = static_cast<int>(std::ceil(2 * halfWidthMm / grid.pixelMm));
    grid.height = static_cast<int>(std::ceil(2 * halfHeightMm / grid.pixelMm));
    grid.originU = -halfWidthMm;
    grid.originV = -halfHeightMm;
    const std::vector<float> hu = render::resliceVolume(ct, frame, grid, 0.0, -1000.0f);
    picture.width = grid.width;
    picture.height = grid.height;
    picture.rgb.assign(std::size_t(grid.width) * std::size_t(grid.height) * 3, 0);
    const double low = 40.0 - 200.0, high = 40.0 + 200.0; // window 400, level 40 HU
    for (int b = 0; b < grid.height; ++b)
        for (int a = 0; a < grid.width; ++a) {
            const double value = hu[std::size_t(b) * std::size_t(grid.width) + std::size_t(a)];
            const auto gray = static_cast<std::uint8_t>(
                std::lround(std::clamp((value - low) / (high - low), 0.0, 1.0) * 255));
            const std::size_t at =
                (std::size_t(grid.height - 1 - b) * std::size_t(grid.width) + std::size_t(a)) * 3;
            picture.rgb[at] = picture.rgb[at + 1] = picture.rgb[at + 2] = gray;
        }
    auto paint = [&](double u, double v, std::uint8_t r, std::uint8_t gg, std::uint8_t bb) {
        const int a = static_cast<int>(std::lround((u - grid.originU) / grid.pixelMm));
        const int b = static_cast<int>(std::lround((v - grid.originV) / grid.pixelMm));
        for (int da = -1; da <= 1; ++da)
            for (int db = -1; db <= 1; ++db) {
                const int x = a + da, y = grid.height - 1 - (b + db);
                if (x < 0 || y < 0 || x >= grid.width || y >= grid.height)
                    continue;
                const std::size_t at = (std::size_t(y) * std::size_t(grid.width) + std::size_t(x)) * 3;
                picture.rgb[at] = r;
                picture.rgb[at + 1] = gg;
                picture.rgb[at + 2] = bb;
            }
    };
    const Vec3 entry = frame.planeFromLps(trajectory.entryLps),
               target = frame.planeFromLps(trajectory.targetLps);
    const int steps = std::max(2, static_cast<int>(length / (grid.pixelMm * 0.5)));
    for (int s = 0; s <= steps; ++s) {
        const double f = double(s) / steps;
        paint(entry.x + (target.x - entry.x) * f, entry.y + (target.y - entry.y) * f, 255, 220, 0);
    }
    paint(target.x, target.y, 255, 40, 40);
    return picture;
}

namespace {

/// Paints a disc of `radius` pixels (0: one pixel) into an RGB picture, clipped to it.
void paintDisc(ReportPicture& picture, double column, double row, int radius, const std::uint8_t (&colour)[3])
{
    const int c0 = static_cast<int>(std::lround(column)), r0 = static_cast<int>(std::lround(row));
    for (int dr = -radius; dr <= radius; ++dr)
        for (int dc = -radius; dc <= radius; ++dc) {
            const int c = c0 + dc, r = r0 + dr;
            if (dc * dc + dr * dr > radius * radius || c < 0 || r < 0 || c >= picture.width ||
                r >= picture.height)
                continue;
            std::uint8_t* at =
                &picture.rgb[(std::size_t(r) * std::size_t(picture.width) + std::size_t(c)) * 3];
            at[0] = colour[0];
            at[1] = colour[1];
            at[2] = colour[2];
        }
}

} // namespace

ReportPicture drrPicture(const imaging::AttenuationVolume& attenuation,
                         const planning::Trajectory& trajectory, planning::PatientPosition position,
                         DrrView view, const std::string& caption, int sizePixels)
{
    if (sizePixels < 16 || sizePixels > 4096)
        throw Error(ErrorCode::InvalidArgument, "DRR picture size must be 16 to 4096 pixels");
    const planning::TrajectoryAngles angles =
        planning::computeTrajectoryAngles(trajectory.entryLps, trajectory.targetLps, position);
    const planning::CarmAngles& carm = view == DrrView::Bullseye ? angles.bullseye : angles.progression;
    imaging::CArmParameters parameters;
    parameters.primaryDeg = carm.primaryDeg;
    parameters.secondaryDeg = carm.secondaryDeg;
    parameters.sourceToDetectorMm = 1000.0;
    parameters.sourceToIsocenterMm = 750.0;
    parameters.isocenterLps = trajectory.targetLps;
    parameters.patientPosition = planning::toString(position);
    parameters.columns = parameters.rows = sizePixels;
    parameters.columnSpacingMm = parameters.rowSpacingMm = 300.0 / sizePixels;
    const imaging::CArmGeometry geometry(parameters);
    const imaging::DrrImage drr = imaging::renderDrr(attenuation, geometry);
    const std::vector<std::uint8_t> grey = imaging::drrDisplayImage(drr);

    ReportPicture picture;
    picture.caption = caption;
    picture.width = drr.columns;
    picture.height = drr.rows;
    picture.rgb.resize(grey.size() * 3);
    for (std::size_t n = 0; n < grey.size(); ++n)
        picture.rgb[3 * n] = picture.rgb[3 * n + 1] = picture.rgb[3 * n + 2] = grey[n];
    const imaging::DetectorPixel entry = geometry.project(trajectory.entryLps);
    const imaging::DetectorPixel target = geometry.project(trajectory.targetLps);
    const std::uint8_t yellow[3] = {255, 220, 0}, red[3] = {255, 40, 40};
    const double pixels = std::hypot(target.column - entry.column, target.row - entry.row);
    const int steps = std::max(1, static_cast<int>(std::ceil(pixels * 2)));
    for (int s = 0; s <= steps; ++s) {
        const double f = double(s) / steps;
        paintDisc(picture, entry.column + (target.column - entry.column) * f,
                  entry.row + (target.row - entry.row) * f, 1, yellow);
    }
    // The entry as a ring (around the target in the bull's-eye view), the target as a red dot.
    for (int a = 0; a < 72; ++a) {
        const double angle = a * 2 * M_PI / 72;
        paintDisc(picture, entry.column + 7 * std::cos(angle), entry.row + 7 * std::sin(angle), 0, yellow);
    }
    paintDisc(picture, target.column, target.row, 3, red);
    return picture;
}

ReportPicture surfaceViewPicture(const imaging::Volume& ct, const planning::Trajectory& trajectory,
                                 planning::PatientPosition position, const std::string& caption,
                                 int sizePixels, double boneHu)
{
    if (sizePixels < 16 || sizePixels > 4096)
        throw Error(ErrorCode::InvalidArgument, "3D view size must be 16 to 4096 pixels");
    if (ct.empty())
        throw Error(ErrorCode::InvalidArgument, "3D view: the CT is empty");
    const Vec3 alongLps = normalized(trajectory.targetLps - trajectory.entryLps);
    // Toward the camera: across the needle, on the table's up side, 30 degrees off the progression
    // direction so that the surface reads as 3D.
    const planning::TrajectoryAngles angles =
        planning::computeTrajectoryAngles(trajectory.entryLps, trajectory.targetLps, position);
    const Vec3 across = normalized(angles.progression.detectorDirectionLps);
    Vec3 upTable = planning::upDirectionLps(position);
    upTable = upTable - alongLps * dot(upTable, alongLps);
    Vec3 tilt = norm(upTable) > 1e-6 ? normalized(upTable) : normalized(cross(alongLps, across));
    if (std::abs(dot(tilt, across)) > 0.9)
        tilt = normalized(cross(alongLps, across));
    const Vec3 towardCameraLps = normalized(across * std::cos(M_PI / 6) + tilt * std::sin(M_PI / 6));
    Vec3 upLps = Vec3{0, 0, 1} - towardCameraLps * towardCameraLps.z;
    if (norm(upLps) < 0.2)
        upLps = Vec3{0, -1, 0} - towardCameraLps * (-towardCameraLps.y);
    upLps = normalized(upLps);
    const Vec3 rightLps = cross(upLps, towardCameraLps);

    const Vec3 centreLps = (trajectory.entryLps + trajectory.targetLps) * 0.5;
    const double length = distance(trajectory.entryLps, trajectory.targetLps);
    const double halfMm = length / 2 + 40.0;
    const double pixelMm = 2 * halfMm / sizePixels;
    const imaging::Geometry& g = ct.geometry();
    // Rays start beyond the volume's bounding sphere on the camera's side.
    double radius = 0;
    for (int corner = 0; corner < 8; ++corner) {
        const Vec3 ijk{corner & 1 ? double(g.size[0] - 1) : 0.0, corner & 2 ? double(g.size[1] - 1) : 0.0,
                       corner & 4 ? double(g.size[2] - 1) : 0.0};
        radius = std::max(radius, distance(g.lpsFromIjk(ijk), centreLps));
    }
    // Only bone within kSlabMm of the picture's plane (through the needle) is shown: what lies
    // farther in front (or behind) does not hide the needle's surroundings, and rays stay short.
    constexpr double kSlabMm = 120.0;
    radius = std::min(radius, kSlabMm);
    const double stepMm = 0.5;
    const int steps = static_cast<int>(std::ceil(2 * radius / stepMm));

    ReportPicture picture;
    picture.caption = caption;
    picture.width = picture.height = sizePixels;
    picture.rgb.assign(std::size_t(sizePixels) * std::size_t(sizePixels) * 3, 0);
    std::vector<double> depthMm(std::size_t(sizePixels) * std::size_t(sizePixels),
                                std::numeric_limits<double>::infinity());
    auto renderRows = [&](int firstRow, int endRow) {
        for (int row = firstRow; row < endRow; ++row)
            for (int column = 0; column < sizePixels; ++column) {
                const double u = -halfMm + (column + 0.5) * pixelMm, v = halfMm - (row + 0.5) * pixelMm;
                const Vec3 startLps = centreLps + rightLps * u + upLps * v + towardCameraLps * radius;
                std::uint8_t* out =
                    &picture.rgb[(std::size_t(row) * std::size_t(sizePixels) + std::size_t(column)) * 3];
                out[0] = 20, out[1] = 28, out[2] = 48; // background
                double previous = -1.0;
                for (int s = 0; s <= steps; ++s) {
                    const double t = s * stepMm;
                    if (ct.sampleLps(startLps - towardCameraLps * t, -1000.0f) < boneHu) {
                        previous = t;
                        continue;
                    }
                    // Bisection between the last sample below the threshold and this one.
                    double low = std::max(previous, 0.0), high = t;
                    for (int n = 0; n < 4; ++n) {
                        const double middle = 0.5 * (low + high);
                        (ct.sampleLps(startLps - towardCameraLps * middle, -1000.0f) < boneHu ? low : high) =
                            middle;
                    }
                    const Vec3 surfaceLps = startLps - towardCameraLps * high;
                    const double h = 0.75;
                    const Vec3 gradient{ct.sampleLps(surfaceLps + Vec3{h, 0, 0}, -1000.0f) -
                                            ct.sampleLps(surfaceLps - Vec3{h, 0, 0}, -1000.0f),
                                        ct.sampleLps(surfaceLps + Vec3{0, h, 0}, -1000.0f) -
                                            ct.sampleLps(surfaceLps - Vec3{0, h, 0}, -1000.0f),
                                        ct.sampleLps(surfaceLps + Vec3{0, 0, h}, -1000.0f) -
                                            ct.sampleLps(surfaceLps - Vec3{0, 0, h}, -1000.0f)};
                    const double lit = norm(gradient) > 1e-6
                                           ? std::max(0.0, -dot(normalized(gradient), towardCameraLps))
                                           : 1.0;
                    const double shade = 0.25 + 0.75 * lit;
                    out[0] = static_cast<std::uint8_t>(std::lround(240 * shade));
                    out[1] = static_cast<std::uint8_t>(std::lround(228 * shade));
                    out[2] = static_cast<std::uint8_t>(std::lround(200 * shade));
                    depthMm[std::size_t(row) * std::size_t(sizePixels) + std::size_t(column)] = high;
                    break;
                }
            }
    };
    const int workers = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w)
        threads.emplace_back(renderRows, sizePixels * w / workers, sizePixels * (w + 1) / workers);
    for (auto& thread : threads)
        thread.join();

    // The needle with a depth test against the bone surface, then the target.
    auto pixelOf = [&](const Vec3& pointLps, double& column, double& row, double& depth) {
        const Vec3 d = pointLps - centreLps;
        column = (dot(d, rightLps) + halfMm) / pixelMm - 0.5;
        row = (halfMm - dot(d, upLps)) / pixelMm - 0.5;
        depth = radius - dot(d, towardCameraLps);
    };
    const std::uint8_t yellow[3] = {255, 220, 0}, orange[3] = {200, 110, 0}, red[3] = {255, 40, 40};
    const int samples = std::max(2, static_cast<int>(std::ceil(length / (pixelMm * 0.25))));
    for (int s = 0; s <= samples; ++s) {
        double column = 0, row = 0, depth = 0;
        pixelOf(trajectory.entryLps + (trajectory.targetLps - trajectory.entryLps) * (double(s) / samples),
                column, row, depth);
        const int c = static_cast<int>(std::lround(column)), r = static_cast<int>(std::lround(row));
        if (c < 0 || r < 0 || c >= sizePixels || r >= sizePixels)
            continue;
        const bool hidden = depth > depthMm[std::size_t(r) * std::size_t(sizePixels) + std::size_t(c)] + 0.5;
        if (!hidden)
            paintDisc(picture, column, row, 1, yellow);
        else if ((static_cast<int>(std::floor(s * pixelMm * 0.25 / 2.0)) % 2) == 0) // 2 mm dashes
            paintDisc(picture, column, row, 0, orange);
    }
    double column = 0, row = 0, depth = 0;
    pixelOf(trajectory.targetLps, column, row, depth);
    paintDisc(picture, column, row, 3, red);
    return picture;
}

CaseReportContent caseReportContent(const planning::Plan& plan, const imaging::Volume* ct,
                                    ProgressSink* progress)
{
    CaseReportContent content;
    content.plan = plan;
    content.generatedAtUtc = currentTimeUtc();
    if (ct == nullptr || ct->empty()) {
        content.notes.push_back("the plan's CT was not available: no patient data and no pictures");
        return content;
    }
    content.patient = imaging::readPatientStudy(ct->info());
    content.seriesDescription = ct->info().description;
    content.modality = ct->info().modality;
    const std::string positionText =
        plan.image.patientPosition.empty() ? ct->info().patientPosition : plan.image.patientPosition;
    const planning::PatientPosition position =
        planning::parsePatientPosition(positionText).value_or(planning::PatientPosition::HFS);
    // The angles of each shown trajectory from its two points and the CT's patient position (a
    // trajectory placed by hand in the workstation carries none); "toward the midline" is kept.
    for (auto& target : content.plan.targets)
        for (auto& planned : target.trajectories)
            if (distance(planned.trajectory.entryLps, planned.trajectory.targetLps) > 1e-6) {
                const std::optional<bool> towardMidline = planned.evaluation.angles.towardMidline;
                planned.evaluation.angles = planning::computeTrajectoryAngles(
                    planned.trajectory.entryLps, planned.trajectory.targetLps, position);
                planned.evaluation.angles.towardMidline = towardMidline;
            }
    std::unique_ptr<imaging::AttenuationVolume> attenuation;
    for (std::size_t t = 0; t < plan.targets.size(); ++t) {
        const planning::PlanTarget& target = plan.targets[t];
        reportProgress(progress, double(t) / double(plan.targets.size()), "pictures of " + target.name);
        throwIfCancelled(progress);
        std::vector<ReportPicture> pictures;
        const planning::PlannedTrajectory* chosen = chosenTrajectory(target);
        if (chosen != nullptr && distance(chosen->trajectory.entryLps, chosen->trajectory.targetLps) > 1e-6) {
            const std::string rank = "rank " + std::to_string(chosen->rank);
            pictures.push_back(surfaceViewPicture(
                *ct, chosen->trajectory, position,
                "3D view (" + rank +
                    "): bone surface (CT >= 250 HU) seen across the needle; needle yellow, "
                    "orange where bone hides it, target red"));
            throwIfCancelled(progress);
            pictures.push_back(alongNeedlePicture(*ct, chosen->trajectory,
                                                  "CT along the needle (" + rank +
                                                      "): entry left, target (red) right; window 400/40 HU"));
            if (!attenuation)
                attenuation = std::make_unique<imaging::AttenuationVolume>(*ct);
            throwIfCancelled(progress);
            const planning::TrajectoryAngles angles = planning::computeTrajectoryAngles(
                chosen->trajectory.entryLps, chosen->trajectory.targetLps, position);
            pictures.push_back(drrPicture(*attenuation, chosen->trajectory, position, DrrView::Bullseye,
                                          "DRR, bull's-eye view (" + rank + "): DICOM primary " +
                                              fixed(angles.bullseye.primaryDeg) + " deg, secondary " +
                                              fixed(angles.bullseye.secondaryDeg) +
                                              " deg; entry (yellow ring) over the target (red)"));
            pictures.push_back(drrPicture(*attenuation, chosen->trajectory, position, DrrView::Progression,
                                          "DRR, progression view (" + rank + "): DICOM primary " +
                                              fixed(angles.progression.primaryDeg) + " deg, secondary " +
                                              fixed(angles.progression.secondaryDeg) +
                                              " deg; needle yellow, target red"));
        }
        content.picturesByTarget.push_back(std::move(pictures));
    }
    reportProgress(progress, 1.0, "pictures done");
    return content;
}

} // namespace np::report
