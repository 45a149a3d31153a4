"""Unit tests of run and Trajectory against closed-form trajectories."""

import numpy as np
import pytest

from optimlib import SGD, AdaGrad, Quadratic, RMSprop, Rosenbrock, run

CURVATURES = np.array([1.0, 4.0, 0.25])
CENTER = np.array([1.0, -1.0, 0.5])
START = np.array([3.0, 2.0, -1.0])
STEPS = 8


@pytest.fixture(scope="module")
def bowl():
    return Quadratic(CURVATURES, center=CENTER)


@pytest.fixture(
    scope="module",
    params=[SGD(0.1), AdaGrad(0.5), RMSprop(0.05, rho=0.8)],
    ids=lambda optimizer: type(optimizer).__name__,
)
def trajectory(request, bowl):
    return run(request.param, bowl, START, STEPS)


def test_trajectory_params_shape(trajectory):
    assert trajectory.params.shape == (STEPS + 1, 3)


def test_trajectory_loss_shape(trajectory):
    assert trajectory.loss.shape == (STEPS + 1,)


def test_trajectory_grads_shape(trajectory):
    assert trajectory.grads.shape == (STEPS, 3)


def test_trajectory_effective_lr_shape(trajectory):
    assert trajectory.effective_lr.shape == (STEPS, 3)


def test_trajectory_starts_at_theta0(trajectory):
    np.testing.assert_array_equal(trajectory.params[0], START)


def test_trajectory_loss_is_quadratic(trajectory):
    # f = 0.5 sum a (theta - c)^2 at every recorded row.
    offsets = trajectory.params - CENTER
    expected = 0.5 * np.sum(CURVATURES * offsets**2, axis=1)
    np.testing.assert_allclose(trajectory.loss, expected, rtol=1e-14)


def test_trajectory_grads_at_rows(trajectory):
    # Row t of grads is a (theta_t - c), taken before step t + 1.
    expected = CURVATURES * (trajectory.params[:-1] - CENTER)
    np.testing.assert_allclose(trajectory.grads, expected, rtol=1e-14)


def test_trajectory_rows_follow_update(trajectory):
    # theta_{t+1} = theta_t - effective_lr_t * g_t for all three optimizers.
    expected = trajectory.params[:-1] - trajectory.effective_lr * trajectory.grads
    np.testing.assert_allclose(trajectory.params[1:], expected, rtol=1e-14, atol=1e-15)


def test_run_copies_theta0(bowl):
    start = START.copy()
    run(SGD(0.1), bowl, start, 3)
    np.testing.assert_array_equal(start, START)


def test_sgd_run_closed_form(bowl):
    # On the bowl, theta_t = c + (1 - lr a)^t (theta_0 - c).
    trajectory = run(SGD(0.1), bowl, START, STEPS)
    t = np.arange(STEPS + 1)[:, np.newaxis]
    expected = CENTER + (1.0 - 0.1 * CURVATURES) ** t * (START - CENTER)
    np.testing.assert_allclose(trajectory.params, expected, rtol=1e-13)


def test_sgd_effective_lr_rows_constant(bowl):
    trajectory = run(SGD(0.1), bowl, START, STEPS)
    np.testing.assert_array_equal(trajectory.effective_lr, np.full((STEPS, 3), 0.1))


@pytest.mark.parametrize("placement", ["inside", "outside"])
def test_adagrad_effective_lr_rows(bowl, placement):
    # Row t is lr / sqrt(G_t + eps) with G_t the sum of squares of rows 0..t.
    trajectory = run(
        AdaGrad(0.5, eps=1e-3, eps_placement=placement), bowl, START, STEPS
    )
    sums = np.cumsum(trajectory.grads**2, axis=0)
    if placement == "inside":
        expected = 0.5 / np.sqrt(sums + 1e-3)
    else:
        expected = 0.5 / (np.sqrt(sums) + 1e-3)
    np.testing.assert_allclose(trajectory.effective_lr, expected, rtol=1e-14)


def test_rmsprop_effective_lr_rows(bowl):
    # Row t is lr / sqrt(E_t + eps), E_t = rho E_{t-1} + (1 - rho) g_t^2, E_0 = 0.
    trajectory = run(RMSprop(0.05, rho=0.8, eps=1e-3), bowl, START, STEPS)
    average = np.zeros(3)
    expected = []
    for gradient in trajectory.grads:
        average = 0.8 * average + 0.2 * gradient**2
        expected.append(0.05 / np.sqrt(average + 1e-3))
    np.testing.assert_allclose(trajectory.effective_lr, expected, rtol=1e-14)


def test_adagrad_run_first_step_sign(bowl):
    # eps = 0 and G_0 = 0: the first step moves every coordinate by lr toward c.
    trajectory = run(AdaGrad(0.5, eps=0.0), bowl, START, 1)
    np.testing.assert_allclose(
        trajectory.params[1], START - 0.5 * np.sign(START - CENTER), rtol=1e-15
    )


@pytest.mark.parametrize(
    "optimizer",
    [SGD(0.1), AdaGrad(0.5), RMSprop(0.05)],
    ids=lambda optimizer: type(optimizer).__name__,
)
def test_float32_run_keeps_dtype(bowl, optimizer):
    trajectory = run(optimizer, bowl, START, 3, dtype=np.float32)
    assert trajectory.params.dtype == np.float32
    assert trajectory.grads.dtype == np.float32


def test_float32_run_tracks_float64(bowl):
    narrow = run(AdaGrad(0.5), bowl, START, 20, dtype=np.float32)
    wide = run(AdaGrad(0.5), bowl, START, 20)
    np.testing.assert_allclose(narrow.params, wide.params, rtol=1e-5, atol=1e-6)


def test_distance_to_center_by_hand():
    # One coordinate with a = 1 and SGD at lr 0.25: |theta_t - c| = 0.75^t * 2.
    trajectory = run(SGD(0.25), Quadratic([1.0], center=[1.0]), [3.0], 4)
    expected = 2.0 * 0.75 ** np.arange(5)
    np.testing.assert_allclose(trajectory.distance_to([1.0]), expected, rtol=1e-15)


def test_distance_to_is_euclidean():
    # From (0, 0) to (3, 4) is 5.
    trajectory = run(SGD(0.1), Rosenbrock(), [0.0, 0.0], 1)
    assert trajectory.distance_to([3.0, 4.0])[0] == 5.0


def test_rosenbrock_run_lowers_loss():
    # From (-1, 1), where f = 4, 200 AdaGrad steps must end lower.
    trajectory = run(AdaGrad(0.1), Rosenbrock(), [-1.0, 1.0], 200)
    assert trajectory.loss[-1] < trajectory.loss[0]
