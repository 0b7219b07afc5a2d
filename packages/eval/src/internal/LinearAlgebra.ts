/**
 * The dense linear algebra of the Fréchet distance: the eigen-decomposition of a symmetric matrix
 * (Householder reduction, implicit QL), its positive semi-definite square root, and products.
 *
 * @since 0.3.0
 */
/**
 * Eigenvalues and eigenvectors (columns of `vectors`) of a symmetric d x d matrix: Householder
 * reduction to tridiagonal form, then the implicit QL method (O(d^3); a 400 x 400 matrix takes a
 * fraction of a second).
 *
 * @since 0.1.0
 * @category linear algebra
 */
export const symmetricEigen = (matrix: ArrayLike<number>, d: number): {
  readonly values: Float64Array
  readonly vectors: Float64Array
} => {
  const v = Float64Array.from(matrix)
  const values = new Float64Array(d)
  const e = new Float64Array(d)
  tridiagonalize(v, values, e, d)
  tridiagonalQl(v, values, e, d)
  return { values, vectors: v }
}

/**
 * Householder reduction of the symmetric matrix in `v` (row-major) to tridiagonal form: `diag`
 * and `off` (sub-diagonal in `off[1..]`) receive it, `v` the accumulated transformation.
 */
const tridiagonalize = (v: Float64Array, diag: Float64Array, off: Float64Array, n: number): void => {
  for (let j = 0; j < n; j++) diag[j] = v[(n - 1) * n + j]
  for (let i = n - 1; i > 0; i--) {
    let scale = 0
    let h = 0
    for (let k = 0; k < i; k++) scale += Math.abs(diag[k])
    if (scale === 0) {
      off[i] = diag[i - 1]
      for (let j = 0; j < i; j++) {
        diag[j] = v[(i - 1) * n + j]
        v[i * n + j] = 0
        v[j * n + i] = 0
      }
    } else {
      for (let k = 0; k < i; k++) {
        diag[k] /= scale
        h += diag[k] * diag[k]
      }
      let f = diag[i - 1]
      let g = Math.sqrt(h)
      if (f > 0) g = -g
      off[i] = scale * g
      h -= f * g
      diag[i - 1] = f - g
      for (let j = 0; j < i; j++) off[j] = 0
      for (let j = 0; j < i; j++) {
        f = diag[j]
        v[j * n + i] = f
        g = off[j] + v[j * n + j] * f
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k * n + j] * diag[k]
          off[k] += v[k * n + j] * f
        }
        off[j] = g
      }
      f = 0
      for (let j = 0; j < i; j++) {
        off[j] /= h
        f += off[j] * diag[j]
      }
      const hh = f / (h + h)
      for (let j = 0; j < i; j++) off[j] -= hh * diag[j]
      for (let j = 0; j < i; j++) {
        f = diag[j]
        g = off[j]
        for (let k = j; k <= i - 1; k++) v[k * n + j] -= f * off[k] + g * diag[k]
        diag[j] = v[(i - 1) * n + j]
        v[i * n + j] = 0
      }
    }
    diag[i] = h
  }
  accumulateTransformations(v, diag, off, n)
}

/**
 * The second half of the Householder reduction: the transformations, whose scales `tridiagonalize`
 * left in `diag`, accumulated into `v`; `diag` then receives the diagonal.
 */
const accumulateTransformations = (v: Float64Array, diag: Float64Array, off: Float64Array, n: number): void => {
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = v[i * n + i]
    v[i * n + i] = 1
    const h = diag[i + 1]
    if (h !== 0) {
      for (let k = 0; k <= i; k++) diag[k] = v[k * n + i + 1] / h
      for (let j = 0; j <= i; j++) {
        let g = 0
        for (let k = 0; k <= i; k++) g += v[k * n + i + 1] * v[k * n + j]
        for (let k = 0; k <= i; k++) v[k * n + j] -= g * diag[k]
      }
    }
    for (let k = 0; k <= i; k++) v[k * n + i + 1] = 0
  }
  for (let j = 0; j < n; j++) {
    diag[j] = v[(n - 1) * n + j]
    v[(n - 1) * n + j] = 0
  }
  v[(n - 1) * n + n - 1] = 1
  off[0] = 0
}

/**
 * The implicit QL method on the tridiagonal matrix (`diag`, `off`), updating the vectors in `v`.
 * Long because it is EISPACK's tql2 in one piece: each shift and its sweep of plane rotations
 * share a dozen running scalars (`c`, `s`, `p`, `g`, `h`...) that a split would pass back and forth.
 */
const tridiagonalQl = (v: Float64Array, diag: Float64Array, off: Float64Array, n: number): void => {
  for (let i = 1; i < n; i++) off[i - 1] = off[i]
  if (n > 0) off[n - 1] = 0
  let f = 0
  let tst1 = 0
  const eps = Math.pow(2, -52)
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(diag[l]) + Math.abs(off[l]))
    let m = l
    while (m < n) {
      if (Math.abs(off[m]) <= eps * tst1) break
      m++
    }
    if (m > l) {
      for (let iter = 0; iter < 60; iter++) {
        let g = diag[l]
        let p = (diag[l + 1] - g) / (2 * off[l])
        let r = Math.hypot(p, 1)
        if (p < 0) r = -r
        diag[l] = off[l] / (p + r)
        diag[l + 1] = off[l] * (p + r)
        const dl1 = diag[l + 1]
        let h = g - diag[l]
        for (let i = l + 2; i < n; i++) diag[i] -= h
        f += h
        p = diag[m]
        let c = 1
        let c2 = c
        let c3 = c
        const el1 = off[l + 1]
        let s = 0
        let s2 = 0
        for (let i = m - 1; i >= l; i--) {
          c3 = c2
          c2 = c
          s2 = s
          g = c * off[i]
          h = c * p
          r = Math.hypot(p, off[i])
          off[i + 1] = s * r
          s = off[i] / r
          c = p / r
          p = c * diag[i] - s * g
          diag[i + 1] = h + s * (c * g + s * diag[i])
          for (let k = 0; k < n; k++) {
            const vk = k * n
            h = v[vk + i + 1]
            v[vk + i + 1] = s * v[vk + i] + c * h
            v[vk + i] = c * v[vk + i] - s * h
          }
        }
        p = (-s * s2 * c3 * el1 * off[l]) / dl1
        off[l] = s * p
        diag[l] = c * p
        if (!(Math.abs(off[l]) > eps * tst1)) break
      }
    }
    diag[l] = diag[l] + f
    off[l] = 0
  }
}

/**
 * Square root of a symmetric positive semi-definite matrix (negative eigenvalues clamped to 0).
 *
 * @since 0.3.0
 * @category linear algebra
 */
export const sqrtPsd = (m: ArrayLike<number>, d: number): Float64Array => {
  const { values, vectors } = symmetricEigen(m, d)
  const out = new Float64Array(d * d)
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(0, values[k]))
    for (let i = 0; i < d; i++) {
      const vik = vectors[i * d + k] * s
      for (let j = 0; j < d; j++) out[i * d + j] += vik * vectors[j * d + k]
    }
  }
  return out
}

/**
 * The product of two d x d row-major matrices.
 *
 * @since 0.3.0
 * @category linear algebra
 */
export const multiply = (a: ArrayLike<number>, b: ArrayLike<number>, d: number): Float64Array => {
  const out = new Float64Array(d * d)
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]
      for (let j = 0; j < d; j++) out[i * d + j] += aik * b[k * d + j]
    }
  }
  return out
}
