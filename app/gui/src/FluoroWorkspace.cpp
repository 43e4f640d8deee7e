#include "needleplan/gui/FluoroWorkspace.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/FluoroDrrBeside.h"
#include "needleplan/gui/FluoroGeometryDialog.h"
#include "needleplan/gui/FluoroPointPair.h"
#include "needleplan/gui/FluoroViewWidget.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/VirtualCArmPanel.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Triangulation.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMainWindow>
#include <QPushButton>
#include <QTabBar>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace np::gui {

FluoroPanel::FluoroPanel(std::shared_ptr<const imaging::ProjectionImage> image, QWidget* parent)
    : QWidget(parent), m_model(new FluoroModel(this))
{
    setObjectName("fluoroPanel");
    m_model->setImage(std::move(image));
    m_view = new FluoroViewWidget(*m_model, this);
    auto* bar = new QHBoxLayout;
    auto button = [&](const QString& text, const char* name, auto slot) {
        auto* b = new QToolButton(this);
        b->setText(text);
        b->setObjectName(name);
        connect(b, &QToolButton::clicked, this, slot);
        bar->addWidget(b);
        return b;
    };
    auto* play =
        button(tr("Play"), "fluoroPlay", [this] { m_model->playing() ? m_model->pause() : m_model->play(); });
    connect(m_model, &FluoroModel::playingChanged, play,
            [play](bool playing) { play->setText(playing ? tr("Pause") : tr("Play")); });
    button(tr("◀"), "fluoroStepBack", [this] { m_model->step(-1); });
    button(tr("▶"), "fluoroStepForward", [this] { m_model->step(1); });
    auto check = [&](const QString& text, const char* name, bool on, auto slot) {
        auto* c = new QCheckBox(text, this);
        c->setObjectName(name);
        c->setChecked(on);
        connect(c, &QCheckBox::toggled, this, slot);
        bar->addWidget(c);
        return c;
    };
    check(tr("Loop"), "fluoroLoop", true, [this](bool on) { m_model->setLoop(on); });
    auto* invert = check(tr("Invert"), "fluoroInvert", false, [this](bool on) { m_model->setInverted(on); });
    connect(m_model, &FluoroModel::displayChanged, invert,
            [this, invert] { invert->setChecked(m_model->inverted()); });
    button(tr("Auto W/L"), "fluoroAutoWindow", [this] { m_model->autoWindow(); });
    bar->addSpacing(12);
    const std::pair<FluoroTool, QString> tools[] = {{FluoroTool::Navigate, tr("Pan")},
                                                    {FluoroTool::Measure, tr("Measure")},
                                                    {FluoroTool::Angle, tr("Angle")},
                                                    {FluoroTool::NeedleTip, tr("Needle tip")},
                                                    {FluoroTool::Point, tr("Point (2 views)")}};
    const char* toolNames[] = {"fluoroToolPan", "fluoroToolMeasure", "fluoroToolAngle", "fluoroToolTip",
                               "fluoroToolPoint"};
    for (int i = 0; i < 5; ++i) {
        auto* b =
            button(tools[i].second, toolNames[i], [this, tool = tools[i].first] { m_model->setTool(tool); });
        b->setCheckable(true);
        b->setAutoExclusive(true);
        b->setChecked(i == 0);
    }
    bar->addSpacing(12);
    m_register = new QPushButton(tr("Register to CT"), this);
    m_register->setObjectName("fluoroRegister");
    connect(m_register, &QPushButton::clicked, this, &FluoroPanel::registerRequested);
    bar->addWidget(m_register);
    check(tr("Plan overlay"), "fluoroOverlay", true, [this](bool on) { m_model->setOverlayVisible(on); });
    m_useAsTarget = new QPushButton(tr("Use as target"), this);
    m_useAsTarget->setObjectName("fluoroUseAsTarget");
    m_useAsTarget->setEnabled(false);
    m_useAsTarget->setToolTip(tr("The point marked on two views (Point tool) becomes a plan target"));
    connect(m_useAsTarget, &QPushButton::clicked, this, &FluoroPanel::useAsTargetRequested);
    bar->addWidget(m_useAsTarget);
    bar->addStretch(1);
    m_readout = new QLabel(this);
    m_readout->setObjectName("fluoroReadout");
    m_readout->setWordWrap(true);
    m_readout->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_drrBeside = new FluoroDrrBesideModel(*m_model, this);
    auto* drrView = new FluoroDrrBesideView(*m_drrBeside, this);
    drrView->setVisible(false);
    check(tr("DRR beside"), "fluoroDrrBeside", false, [this, drrView](bool on) {
        drrView->setVisible(on);
        m_drrBeside->setEnabled(on);
    });
    auto* images = new QHBoxLayout;
    images->addWidget(m_view, 1);
    images->addWidget(drrView, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addLayout(images, 1);
    layout->addWidget(m_readout);
    connect(m_model, &FluoroModel::measurementChanged, this, [this] {
        if (m_model->tool() == FluoroTool::Angle) {
            if (!m_model->angleText().isEmpty())
                setReadout(tr("Angle: %1").arg(m_model->angleText()));
        } else if (!m_model->measurementText().isEmpty()) {
            setReadout(tr("Distance: %1").arg(m_model->measurementText()));
        }
    });
}

QString FluoroPanel::readoutText() const
{
    return m_readout->text();
}

void FluoroPanel::setReadout(const QString& text)
{
    m_readout->setText(text);
}

FluoroWorkspace::FluoroWorkspace(QMainWindow& window, ImageModel& image, PlanModel& plan,
                                 StructuresModel& structures, BackgroundTask& task)
    : QObject(&window), m_window(window), m_image(image), m_plan(plan), m_structures(structures), m_task(task)
{
    connect(&m_image, &ImageModel::projectionChosen, this, &FluoroWorkspace::openFile);
    connect(&m_image, &ImageModel::volumeChanged, this, [this] {
        for (FluoroPanel* panel : m_panels) // another CT: the registrations no longer hold
            panel->model().clearRegistration();
        if (m_carm)
            m_carm->model().setCt(m_image.volume(), m_task);
        for (FluoroPanel* panel : m_panels)
            panel->drrBeside().setCt(m_image.volume(), &m_task, [this] { return isocenterLps(); });
        updateReadouts();
    });
    connect(&m_plan, &PlanModel::planChanged, this, &FluoroWorkspace::updatePlan);
    connect(&m_plan, &PlanModel::activeTargetChanged, this, &FluoroWorkspace::updatePlan);
    connect(&m_structures, &StructuresModel::structuresChanged, this, &FluoroWorkspace::updateStructures);
    connect(&m_structures, &StructuresModel::labelsChanged, this, &FluoroWorkspace::updateStructures);
}

bool FluoroWorkspace::openIfProjection(const QString& path)
{
    const QFileInfo info(path);
    if (!info.isFile())
        return false;
    try {
        imaging::loadProjectionImage(path.toStdString(), false); // the header only
    } catch (const Error&) {
        return false; // not a projection image: opened as a volume (which reports its own errors)
    }
    openFile(path);
    return true;
}

void FluoroWorkspace::openFile(const QString& path)
{
    auto image = std::make_shared<imaging::ProjectionImage>();
    const std::string native = path.toStdString();
    m_task.start(
        tr("Loading %1").arg(QFileInfo(path).fileName()),
        [image, native](ProgressSink& sink) { *image = imaging::loadProjectionImage(native, true, &sink); },
        [this, image] {
            addPanel(image);
            emit opened(true, QString());
        },
        [this, path](ErrorCode code, const QString& message) {
            if (code != ErrorCode::Cancelled)
                emit errorOccurred(tr("Could not open %1").arg(QFileInfo(path).fileName()), message);
            emit opened(false, message);
        });
}

void FluoroWorkspace::ensureTabs()
{
    if (m_tabs)
        return;
    // The CT views become the first tab; projections open beside them.
    QWidget* ct = m_window.takeCentralWidget();
    m_tabs = new QTabWidget(&m_window);
    m_tabs->setObjectName("imageTabs");
    m_tabs->setTabsClosable(true);
    m_tabs->addTab(ct, tr("CT"));
    m_tabs->tabBar()->setTabButton(0, QTabBar::RightSide, nullptr);
    m_window.setCentralWidget(m_tabs);
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, [this](int index) {
        if (m_carm && m_tabs->widget(index) == m_carm) {
            m_tabs->removeTab(index);
            m_carm->deleteLater();
            m_carm = nullptr;
            return;
        }
        auto* panel = qobject_cast<FluoroPanel*>(m_tabs->widget(index));
        if (!panel)
            return;
        m_panels.erase(std::find(m_panels.begin(), m_panels.end(), panel));
        m_pointOrder.erase(std::remove(m_pointOrder.begin(), m_pointOrder.end(), panel), m_pointOrder.end());
        updatePoints();
        m_tabs->removeTab(index);
        panel->deleteLater();
        updateReadouts();
    });
}

void FluoroWorkspace::addPanel(std::shared_ptr<const imaging::ProjectionImage> image)
{
    ensureTabs();
    auto* panel = new FluoroPanel(std::move(image), m_tabs);
    m_panels.push_back(panel);
    m_tabs->addTab(panel, panel->model().title());
    m_tabs->setCurrentWidget(panel);
    connect(panel, &FluoroPanel::registerRequested, this, [this, panel] { registerPanel(panel); });
    panel->drrBeside().setCt(m_image.volume(), &m_task, [this] { return isocenterLps(); });
    connect(&panel->model(), &FluoroModel::tipChanged, this, &FluoroWorkspace::updateReadouts);
    connect(panel, &FluoroPanel::useAsTargetRequested, this, &FluoroWorkspace::useTriangulatedPointAsTarget);
    connect(&panel->model(), &FluoroModel::pointChanged, this, [this, panel] {
        m_pointOrder.erase(std::remove(m_pointOrder.begin(), m_pointOrder.end(), panel), m_pointOrder.end());
        if (m_pointOrder.empty()) // a new pair of marks: unregistered views turn about today's target
            m_pointIsocenterLps = isocenterLps();
        if (panel->model().pointMark())
            m_pointOrder.push_back(panel);
        updatePoints();
        updateReadouts();
    });
    connect(&panel->model(), &FluoroModel::frameChanged, this, [this] {
        if (!m_pointOrder.empty())
            updatePoints();
    });
    connect(&panel->model(), &FluoroModel::registrationFinished, this,
            [this](bool ok, const QString& reason) {
                updatePoints();
                updateStructures();
                updateReadouts();
                emit registrationFinished(ok, reason);
            });
    updatePlan();
    updateStructures();
}

VirtualCArmPanel* FluoroWorkspace::openVirtualCArm()
{
    ensureTabs();
    if (!m_carm) {
        m_carm = new VirtualCArmPanel(m_tabs);
        m_tabs->addTab(m_carm, tr("Virtual C-arm"));
        m_carm->model().setCt(m_image.volume(), m_task);
        updatePlan();
    }
    m_tabs->setCurrentWidget(m_carm);
    return m_carm;
}

Vec3 FluoroWorkspace::isocenterLps() const
{
    if (const PlanTarget* active = m_plan.active())
        return active->targetLps;
    if (!m_plan.targets().empty())
        return m_plan.targets().front().targetLps;
    if (const auto volume = m_image.volume()) {
        const auto& g = volume->geometry();
        return g.lpsFromIjk(Vec3{0.5 * (g.size[0] - 1), 0.5 * (g.size[1] - 1), 0.5 * (g.size[2] - 1)});
    }
    return {};
}

void FluoroWorkspace::registerPanel(FluoroPanel* panel, const imaging::FluoroRegistrationOptions& options)
{
    const auto image = panel->model().image();
    if (image && image->geometry.confidence != imaging::GeometryConfidence::Full && m_image.volume()) {
        // The header lacks part of the geometry: the user gives it (the dialog says how it is used).
        auto* dialog = new FluoroGeometryDialog(*image, panel);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &QDialog::accepted, this, [this, panel, dialog, options] {
            QStringList assumed;
            try {
                panel->model().setCompletedGeometry(
                    completeGeometry(*panel->model().image(), dialog->values(), &assumed), assumed);
            } catch (const Error& e) {
                panel->setReadout(tr("Not registered: %1").arg(QString::fromUtf8(e.what())));
                emit registrationFinished(false, QString::fromUtf8(e.what()));
                return;
            }
            registerPanel(panel, options);
        });
        dialog->open();
        panel->setReadout(tr("Give the missing C-arm geometry to register this image."));
        return;
    }
    QString error;
    if (!panel->model().registerToCt(m_image.volume(), isocenterLps(), m_task, &error, options)) {
        panel->setReadout(tr("Not registered: %1").arg(error));
        emit errorOccurred(tr("Cannot register"), error);
        emit registrationFinished(false, error);
        return;
    }
    panel->setReadout(tr("Registering to the CT…"));
}

void FluoroWorkspace::setPathsOverride(std::optional<PathsOverride> paths)
{
    m_pathsOverride = std::move(paths);
    updatePlan();
}

void FluoroWorkspace::updatePlan()
{
    std::vector<PlannedPath> paths;
    std::vector<Vec3> targets;
    int active = -1;
    for (std::size_t i = 0; i < m_plan.targets().size(); ++i) {
        const PlanTarget& target = m_plan.targets()[i];
        targets.push_back(target.targetLps);
        if (!target.entryLps)
            continue;
        if (static_cast<int>(i) == m_plan.activeTarget())
            active = static_cast<int>(paths.size());
        paths.push_back({*target.entryLps, target.targetLps, m_plan.needleRadiusMm()});
    }
    if (active < 0 && !paths.empty())
        active = 0;
    if (m_pathsOverride) {
        paths = m_pathsOverride->paths;
        active = m_pathsOverride->active;
        targets = m_pathsOverride->targetsLps;
    }
    for (FluoroPanel* panel : m_panels)
        panel->model().setPlan(paths, active, targets);
    if (m_carm)
        m_carm->model().setPlan(paths, active, targets);
    updateReadouts();
}

void FluoroWorkspace::updateStructures()
{
    const auto labels = m_structures.labels();
    const bool anyRegistered =
        std::any_of(m_panels.begin(), m_panels.end(), [](FluoroPanel* p) { return p->model().registered(); });
    std::vector<std::vector<Vec3>> points;
    std::vector<QColor> colors;
    if (labels && anyRegistered) {
        // The chosen structures: those shown, less the skin. Their boundary voxels, at most
        // about 40000 per structure.
        const auto& g = labels->geometry();
        const std::uint16_t skin = m_structures.skinLabel();
        std::vector<std::uint16_t> values;
        for (const StructureRow& row : m_structures.rows())
            if (row.style.visible && row.style.labelValue != 0 && row.style.labelValue != skin) {
                values.push_back(row.style.labelValue);
                colors.push_back(
                    QColor::fromRgbF(row.style.colorRgb[0], row.style.colorRgb[1], row.style.colorRgb[2]));
            }
        points.resize(values.size());
        std::vector<std::vector<Vec3>> all(values.size());
        const auto nx = g.size[0], ny = g.size[1], nz = g.size[2];
        for (std::int64_t k = 1; k + 1 < nz; ++k)
            for (std::int64_t j = 1; j + 1 < ny; ++j)
                for (std::int64_t i = 1; i + 1 < nx; ++i) {
                    const std::uint16_t v = labels->at(i, j, k);
                    if (v == 0 || (labels->at(i - 1, j, k) == v && labels->at(i + 1, j, k) == v &&
                                   labels->at(i, j - 1, k) == v && labels->at(i, j + 1, k) == v &&
                                   labels->at(i, j, k - 1) == v && labels->at(i, j, k + 1) == v))
                        continue;
                    const auto it = std::find(values.begin(), values.end(), v);
                    if (it != values.end())
                        all[static_cast<std::size_t>(it - values.begin())].push_back(
                            g.lpsFromIjk(Vec3{double(i), double(j), double(k)}));
                }
        for (std::size_t s = 0; s < all.size(); ++s) {
            const std::size_t stride = std::max<std::size_t>(1, all[s].size() / 40000);
            for (std::size_t i = 0; i < all[s].size(); i += stride)
                points[s].push_back(all[s][i]);
        }
    }
    for (FluoroPanel* panel : m_panels)
        panel->model().setStructureOutlines(points, colors);
}

void FluoroWorkspace::updateReadouts()
{
    std::vector<FluoroPanel*> marked; // registered views with a tip mark
    for (FluoroPanel* panel : m_panels) {
        FluoroModel& model = panel->model();
        QString text; // the image's warnings first (not errors), then the registration and the tip
        for (const std::string& warning : model.image()->warnings)
            text += QString::fromStdString(warning) + "\n";
        if (const auto& registration = model.registration()) {
            text +=
                registration->result.registered
                    ? tr("Registered to the CT: %1").arg(QString::fromStdString(registration->result.reason))
                    : tr("Not registered: %1 The plan is not drawn.")
                          .arg(QString::fromStdString(registration->result.reason));
        }
        if (model.tipMark()) {
            if (const auto readout = model.tipReadout()) {
                text += "\n" + QString::fromStdString(describe(*readout));
                marked.push_back(panel);
            } else if (!model.registered()) {
                text += "\n" + tr("Needle tip marked; register this image to compare it with the plan.");
            } else {
                text +=
                    "\n" + tr("Needle tip marked; the plan has no trajectory with an entry to compare with.");
            }
        }
        if (!m_pointText.isEmpty() &&
            std::find(m_pointOrder.begin(), m_pointOrder.end(), panel) != m_pointOrder.end())
            text += "\n" + m_pointText;
        panel->setReadout(text.trimmed());
    }
    if (marked.size() < 2)
        return;
    // Two registered views with a mark each: the tip is a point.
    FluoroModel& a = marked[0]->model();
    FluoroModel& b = marked[1]->model();
    try {
        const TipPointReadout point = tipPointReadout(*a.projectionForFrame(a.tipFrame()), *a.tipMark(),
                                                      *b.projectionForFrame(b.tipFrame()), *b.tipMark(),
                                                      a.paths()[static_cast<std::size_t>(a.activePath())]);
        for (FluoroPanel* panel : {marked[0], marked[1]})
            panel->setReadout(panel->readoutText() + "\n" + QString::fromStdString(describe(point)));
    } catch (const Error& e) {
        for (FluoroPanel* panel : {marked[0], marked[1]})
            panel->setReadout(panel->readoutText() + "\n" +
                              tr("Two views: %1").arg(QString::fromUtf8(e.what())));
    }
}

void FluoroWorkspace::updatePoints()
{
    m_pointLps.reset();
    m_pointText.clear();
    const Vec3 isocenter = m_pointIsocenterLps; // fixed while marks stand (a new target must not move them)
    std::optional<MarkProjection> first;
    if (!m_pointOrder.empty()) {
        FluoroModel& a = m_pointOrder[0]->model();
        first = markProjection(a, a.pointFrame(), isocenter);
        if (!first)
            m_pointText = tr("Point marked; this view is neither registered nor fully calibrated, so it "
                             "cannot be triangulated.");
    }
    // The first mark's epipolar line in every other view that has a projection.
    for (FluoroPanel* panel : m_panels) {
        FluoroModel& model = panel->model();
        std::optional<imaging::ImageLine> line;
        const auto own = markProjection(model, model.frameIndex(), isocenter);
        if (first && own && panel != m_pointOrder[0]) {
            try {
                line = imaging::epipolarLine(first->projection, *m_pointOrder[0]->model().pointMark(),
                                             own->projection);
            } catch (const Error&) {
                // the other source lies on the ray: no line to draw
            }
        }
        model.setEpipolarLine(line);
    }
    if (first && m_pointOrder.size() >= 2) {
        FluoroModel& b = m_pointOrder[1]->model();
        const auto second = markProjection(b, b.pointFrame(), isocenter);
        if (!second) {
            m_pointText =
                tr("Second point marked on a view that is neither registered nor fully calibrated.");
        } else {
            try {
                const PointPair pair =
                    triangulateMarks(*first, *m_pointOrder[0]->model().pointMark(), *second, *b.pointMark());
                m_pointText = pair.text;
                if (pair.triangulation.rayGapMm <= kPointGapWarningMm)
                    m_pointLps = pair.triangulation.pointLps;
            } catch (const Error& e) {
                m_pointText = tr("Two views: %1").arg(QString::fromUtf8(e.what()));
            }
        }
    } else if (first) {
        m_pointText = tr("Point marked: mark the same point on a second view (the dashed line shows where "
                         "it must lie).");
    }
    for (FluoroPanel* panel : m_panels)
        panel->useAsTargetButton()->setEnabled(m_pointLps.has_value());
}

bool FluoroWorkspace::useTriangulatedPointAsTarget()
{
    if (!m_pointLps)
        return false;
    emit targetRequested(tr("Fluoroscopy point %1").arg(++m_pointTargets), *m_pointLps);
    return true;
}

} // namespace np::gui
