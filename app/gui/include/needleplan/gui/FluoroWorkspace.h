#pragma once
/// Fluoroscopy in the workstation: projection images (XA, RF, DX, CR) open in tabs beside the CT
/// views (the CT, its structures and the plan stay), each with its cine and display controls,
/// "Register to CT", the plan overlay and the needle-tip mark. With one registered view the tip's
/// ray is compared with the planned path; with two, the tip is triangulated.

#include "needleplan/gui/FluoroModel.h"
#include "needleplan/imaging/FluoroRegistration.h"

#include <QObject>
#include <QWidget>
#include <optional>
#include <vector>

class QLabel;
class QMainWindow;
class QPushButton;
class QTabWidget;

namespace np::gui {

class BackgroundTask;
class FluoroDrrBesideModel;
class FluoroViewWidget;
class ImageModel;
class PlanModel;
class StructuresModel;
class VirtualCArmPanel;

/// One fluoroscopy image: its model, the controls and the view.
class FluoroPanel : public QWidget
{
    Q_OBJECT
public:
    explicit FluoroPanel(std::shared_ptr<const imaging::ProjectionImage> image, QWidget* parent = nullptr);
    FluoroModel& model() { return *m_model; }
    FluoroViewWidget* view() const { return m_view; }
    QPushButton* registerButton() const { return m_register; }
    /// The CT's DRR beside the image (the "DRR beside" check box shows it).
    FluoroDrrBesideModel& drrBeside() { return *m_drrBeside; }
    /// "Use as target": the point triangulated from two views becomes a plan target.
    QPushButton* useAsTargetButton() const { return m_useAsTarget; }
    /// The readout under the image (registration verdict and the needle tip).
    QString readoutText() const;
    void setReadout(const QString& text);

signals:
    void registerRequested();
    void useAsTargetRequested();

private:
    FluoroModel* m_model = nullptr;
    FluoroViewWidget* m_view = nullptr;
    QPushButton* m_register = nullptr;
    QPushButton* m_useAsTarget = nullptr;
    FluoroDrrBesideModel* m_drrBeside = nullptr;
    QLabel* m_readout = nullptr;
};

class FluoroWorkspace : public QObject
{
    Q_OBJECT
public:
    FluoroWorkspace(QMainWindow& window, ImageModel& image, PlanModel& plan, StructuresModel& structures,
                    BackgroundTask& task);

    /// Opens `path` in a fluoroscopy tab when it is a projection image file; false otherwise
    /// (folders, volumes, non-DICOM files: the caller opens them as usual).
    bool openIfProjection(const QString& path);
    /// Loads a projection image off the GUI thread and adds its tab; opened reports.
    void openFile(const QString& path);
    int count() const { return static_cast<int>(m_panels.size()); }
    FluoroPanel* panel(int index) const { return m_panels.at(static_cast<std::size_t>(index)); }
    /// The tabs (CT first), created when the first projection opens; nullptr before.
    QTabWidget* tabs() const { return m_tabs; }
    /// Registers `panel`'s frame to the CT at the active target (what its button does).
    void registerPanel(FluoroPanel* panel, const imaging::FluoroRegistrationOptions& options = {});
    /// Where the registration puts the header's isocentre: the active target, else the first one,
    /// else the CT's centre.
    Vec3 isocenterLps() const;
    /// Opens (or shows) the virtual C-arm tab of the loaded CT.
    VirtualCArmPanel* openVirtualCArm();
    VirtualCArmPanel* virtualCArm() const { return m_carm; }
    /// Paths shown instead of the plan's in the fluoroscopy tabs and the virtual C-arm while set
    /// (rehearsal: the resident's own path, the planner's only after Score); `active` is the one
    /// whose bull's-eye view the readouts use.
    struct PathsOverride
    {
        std::vector<PlannedPath> paths;
        int active = -1;
        std::vector<Vec3> targetsLps;
    };
    void setPathsOverride(std::optional<PathsOverride> paths);
    /// The point triangulated from the Point marks of two views, when the ray gap is within 2 mm.
    const std::optional<Vec3>& triangulatedPointLps() const { return m_pointLps; }
    /// Makes the triangulated point a plan target (what "Use as target" does); false without one.
    bool useTriangulatedPointAsTarget();

signals:
    /// A point marked on two views is to become a target (the window adds it as an undo step).
    void targetRequested(const QString& name, const Vec3& targetLps);
    void opened(bool ok, const QString& message);
    void errorOccurred(const QString& title, const QString& message);
    void registrationFinished(bool registered, const QString& reason);

private:
    void addPanel(std::shared_ptr<const imaging::ProjectionImage> image);
    void ensureTabs();
    void updatePlan();
    void updateStructures();
    void updateReadouts();
    void updatePoints();

    QMainWindow& m_window;
    ImageModel& m_image;
    PlanModel& m_plan;
    StructuresModel& m_structures;
    BackgroundTask& m_task;
    QTabWidget* m_tabs = nullptr;
    std::vector<FluoroPanel*> m_panels;
    VirtualCArmPanel* m_carm = nullptr;
    std::optional<PathsOverride> m_pathsOverride;
    std::vector<FluoroPanel*> m_pointOrder; ///< panels with a Point mark, first marked first
    std::optional<Vec3> m_pointLps;
    Vec3 m_pointIsocenterLps; ///< where unregistered views' isocentre was when the first mark was made
    QString m_pointText;
    int m_pointTargets = 0;
};

} // namespace np::gui
