#pragma once
/// Small value types for 3D geometry. The frame of a value is carried by its variable name
/// (`targetLps`, `voxelIjk`); a matrix is named to-from (`lpsFromIjk`).

#include <array>
#include <cmath>

namespace np {

/// A 3-vector of doubles (a point or a direction; millimetres unless the name says otherwise).
struct Vec3
{
    double x = 0.0;
    double y = 0.0;
    double z = 0.0;

    constexpr double operator[](int axis) const { return axis == 0 ? x : (axis == 1 ? y : z); }
    constexpr double& operator[](int axis) { return axis == 0 ? x : (axis == 1 ? y : z); }

    constexpr Vec3 operator+(const Vec3& o) const { return {x + o.x, y + o.y, z + o.z}; }
    constexpr Vec3 operator-(const Vec3& o) const { return {x - o.x, y - o.y, z - o.z}; }
    constexpr Vec3 operator-() const { return {-x, -y, -z}; }
    constexpr Vec3 operator*(double s) const { return {x * s, y * s, z * s}; }
    constexpr Vec3 operator/(double s) const { return {x / s, y / s, z / s}; }
    constexpr Vec3& operator+=(const Vec3& o) { x += o.x, y += o.y, z += o.z; return *this; }
    constexpr Vec3& operator-=(const Vec3& o) { x -= o.x, y -= o.y, z -= o.z; return *this; }
    constexpr Vec3& operator*=(double s) { x *= s, y *= s, z *= s; return *this; }
    constexpr bool operator==(const Vec3& o) const { return x == o.x && y == o.y && z == o.z; }
    constexpr bool operator!=(const Vec3& o) const { return !(*this == o); }
};

constexpr Vec3 operator*(double s, const Vec3& v) { return v * s; }
constexpr double dot(const Vec3& a, const Vec3& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
constexpr Vec3 cross(const Vec3& a, const Vec3& b)
{
    return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
inline double norm(const Vec3& v) { return std::sqrt(dot(v, v)); }
inline double distance(const Vec3& a, const Vec3& b) { return norm(a - b); }
/// Unit vector along `v`; the zero vector stays zero.
inline Vec3 normalized(const Vec3& v)
{
    const double n = norm(v);
    return n > 0.0 ? v / n : Vec3{};
}

/// A 3×3 matrix stored row-major: `m[3 * row + column]`.
struct Mat3
{
    std::array<double, 9> m{1, 0, 0, 0, 1, 0, 0, 0, 1};

    static constexpr Mat3 identity() { return Mat3{}; }
    /// Matrix whose columns are the given vectors.
    static constexpr Mat3 fromColumns(const Vec3& c0, const Vec3& c1, const Vec3& c2)
    {
        return Mat3{{c0.x, c1.x, c2.x, c0.y, c1.y, c2.y, c0.z, c1.z, c2.z}};
    }
    static constexpr Mat3 diagonal(const Vec3& d) { return Mat3{{d.x, 0, 0, 0, d.y, 0, 0, 0, d.z}}; }

    constexpr double operator()(int row, int column) const { return m[3 * row + column]; }
    constexpr double& operator()(int row, int column) { return m[3 * row + column]; }
    constexpr Vec3 column(int c) const { return {m[c], m[3 + c], m[6 + c]}; }
    constexpr Vec3 row(int r) const { return {m[3 * r], m[3 * r + 1], m[3 * r + 2]}; }

    constexpr Vec3 operator*(const Vec3& v) const
    {
        return {m[0] * v.x + m[1] * v.y + m[2] * v.z, m[3] * v.x + m[4] * v.y + m[5] * v.z,
                m[6] * v.x + m[7] * v.y + m[8] * v.z};
    }
    constexpr Mat3 operator*(const Mat3& o) const
    {
        Mat3 r{{0, 0, 0, 0, 0, 0, 0, 0, 0}};
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j)
                for (int k = 0; k < 3; ++k)
                    r.m[3 * i + j] += m[3 * i + k] * o.m[3 * k + j];
        return r;
    }
    constexpr Mat3 transposed() const { return Mat3{{m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]}}; }
    constexpr double determinant() const
    {
        return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
               m[2] * (m[3] * m[7] - m[4] * m[6]);
    }
    /// Inverse; throws np::Error(InconsistentGeometry) for a singular matrix.
    Mat3 inverse() const;
    bool operator==(const Mat3& o) const { return m == o.m; }
};

} // namespace np
