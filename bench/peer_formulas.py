"""The peer-library survey's data: every elementwise activation of torch.nn, jax.nn and Keras,
and the elementwise losses with their target as an input, each with the library's OWN backward.

One row (:class:`Peer`) per library function: its forward in NumPy syntax with the library's
default hyper-parameters written in as numbers (``defaults`` says which), the inputs in
``--var`` order (``x`` first; ``t`` the target; ``a`` a PReLU weight; ``var`` a variance), and
for each input the backward formula the library itself computes, in NumPy syntax with ``dout``
the upstream gradient (``out`` the forward output, and the forward's own statement names).

Where the backward comes from (``source``):

* torch — ``tools/autograd/derivatives.yaml`` and the ``*_backward`` kernels it names
  (``aten/src/ATen/native/cpu/Activation.cpp``, ``Loss.cpp``, ``FunctionsManual.cpp``); a
  composite (a Python function of other ops) is differentiated by autograd, op by op, and its
  backward is that chain of per-op formulas.
* jax — the op's ``custom_jvp`` where ``jax.nn`` defines one (relu, relu6, logaddexp, logistic),
  else the JVP rules of the ``lax`` ops the function is made of, transposed.
* keras — Keras 3 on its TensorFlow backend: the ``tf.nn``/``tf.math`` op it calls and that
  op's registered gradient (``EluGrad``, ``SeluGrad``, ``Relu6Grad``, ``SoftplusGrad``, ``Maximum``:
  the first argument where ``x >= y``, ``clip_by_value``: where ``lo <= x <= hi``).
* optax, torchvision, tensorflow-addons — the losses those libraries add, differentiated by
  their framework as above.

Values at a kink (a tie of ``maximum``, ``x == 0`` of ReLU) are each library's own; they differ
between libraries and are a set of measure zero, so a check proves equality away from them.

``expect`` is ``"proven"`` for every input except where the library's backward is not the
derivative of its own forward — torch's BCELoss, whose forward clamps each log at -100: its
backward to x divides by ``max(x*(1 - x), 1e-12)`` (wrong for e**-100 < x < 1e-12, e.g. at
x = 1e-13), and its backward to t is ``-logit(x)`` with no clamp (wrong for x < e**-100 = 3.7e-44,
e.g. 115.1 against 100 at x = 1e-50). There the check must refute it (``"not_equal"``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PEERS", "Peer", "by_name"]


@dataclass(frozen=True)
class Peer:
    """One library function: forward, inputs, and the library's own backward per input."""

    name: str                       # "library.Function", unique
    library: str
    forward: str                    # NumPy syntax; statements separated by ';'
    backward: dict                  # input -> the library's backward in NumPy syntax, with dout
    source: str                     # where the backward formula comes from
    inputs: tuple = ("x",)          # --var order
    defaults: str = ""              # the library defaults written into the forward
    positive: tuple = ()            # inputs the forward needs positive (--positive)
    expect: dict = field(default_factory=dict)   # input -> verdict where not "proven"
    note: str = ""

    def __post_init__(self):
        for label, names in (("backward", self.backward), ("expect", self.expect)):
            if set(names) - set(self.inputs):
                raise ValueError(f"{self.name}: {label} for {sorted(set(names) - set(self.inputs))}"
                                 f", not an input")
        if set(self.inputs) - set(self.backward):
            missing = sorted(set(self.inputs) - set(self.backward))
            raise ValueError(f"{self.name}: no backward for {missing}")

    def expected(self, wrt: str) -> str:
        """The verdict ``derive check --wrt`` must give: "proven", or "not_equal"."""
        return self.expect.get(wrt, "proven")


# --- constants as the libraries write them -----------------------------------------------
SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"
# An irrational constant is written as the exact number the library's double rounds: torch's
# M_SQRT1_2 = 0.7071067811865476 is sqrt(1/2) to 16 digits, and with the digits the forward's
# own derivative exp(-(0.7071067811865476*x)**2) and the library's exp(-0.5*x*x) differ in the
# 17th digit, which no exact proof can call equal. Hyper-parameters stay decimal.
SQRT_2_OVER_PI = "np.sqrt(2/np.pi)"        # torch kBeta = M_SQRT2*M_2_SQRTPI*0.5 (tanh GELU), jax
INV_SQRT_2PI = "(1/np.sqrt(2*np.pi))"      # torch kBeta = M_2_SQRTPI*M_SQRT1_2*0.5 (exact GELU)
SQRT1_2 = "np.sqrt(0.5)"                   # M_SQRT1_2, jax sqrt_half = np.sqrt(0.5)
SQRT2 = "np.sqrt(2)"                       # tf.nn.gelu's 1.4142135623730951
TWO_OVER_SQRT_PI = "(2/np.sqrt(np.pi))"    # M_2_SQRTPI: the erf and erfc gradient's factor
GELU_KAPPA = "0.044715"

_SIG = "1/(1 + np.exp(-x))"                # sigmoid(x), spelled out as the libraries compute it
_TANH_INNER = f"np.tanh({SQRT_2_OVER_PI}*(x + {GELU_KAPPA}*x**3))"


def _p(name, library, forward, backward, source, **kw):
    if isinstance(backward, str):
        backward = {"x": backward}
    if "inputs" in kw and isinstance(kw["inputs"], str):
        kw["inputs"] = tuple(kw["inputs"].split(","))
    if "positive" in kw and isinstance(kw["positive"], str):
        kw["positive"] = tuple(kw["positive"].split(","))
    return Peer(name, library, forward, backward, source, **kw)


# --- torch.nn: elementwise activations --------------------------------------------------------
TORCH = [
    _p("torch.ELU", "torch", "np.where(x <= 0, 1.0*np.expm1(x*1.0), x*1.0)",
       "np.where(x <= 0, dout*1.0*1.0*np.exp(x*1.0), dout*1.0)",
       "derivatives.yaml: elu_backward(grad, alpha, scale, input_scale, is_result=false, self)",
       defaults="alpha=1.0 (scale=1, input_scale=1)"),
    _p("torch.Hardshrink", "torch", "np.where((x >= -0.5) & (x <= 0.5), 0, x)",
       "np.where((x >= -0.5) & (x <= 0.5), 0, dout)",
       "derivatives.yaml: hardshrink_backward(grad_out, self, lambd)", defaults="lambd=0.5"),
    _p("torch.Hardsigmoid", "torch", "np.minimum(np.maximum(x + 3, 0), 6)/6",
       "np.where((x > -3) & (x < 3), dout/6, 0)",
       "derivatives.yaml: hardsigmoid_backward(grad, self)"),
    _p("torch.Hardtanh", "torch", "np.clip(x, -1.0, 1.0)",
       "np.where((x <= -1.0) | (x >= 1.0), 0, dout)",
       "derivatives.yaml: hardtanh_backward(grad, self, min_val, max_val)",
       defaults="min_val=-1.0, max_val=1.0"),
    _p("torch.Hardswish", "torch", "x*np.minimum(np.maximum(x + 3, 0), 6)/6",
       "np.where(x < -3, 0, np.where(x <= 3, dout*(x/3 + 0.5), dout))",
       "derivatives.yaml: hardswish_backward(grad, self) (piecewise, its own tie values)"),
    _p("torch.LeakyReLU", "torch", "np.where(x > 0, x, 0.01*x)",
       "np.where(x > 0, dout, dout*0.01)",
       "derivatives.yaml: leaky_relu_backward(grad, self, negative_slope, false)",
       defaults="negative_slope=0.01"),
    _p("torch.LogSigmoid", "torch", "np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))",
       "np.where(x < 0, dout*(1 - np.exp(-np.abs(x))/(1 + np.exp(-np.abs(x)))), "
       "dout*(0 + np.exp(-np.abs(x))/(1 + np.exp(-np.abs(x)))))",
       "derivatives.yaml: log_sigmoid_backward(grad, self, buffer); buffer = exp(-|x|), "
       "(max_deriv - sign*buffer/(1 + buffer))*grad"),
    _p("torch.ReLU", "torch", "np.maximum(x, 0)", "np.where(out <= 0, 0, dout)",
       "derivatives.yaml: threshold_backward(grad, result, 0)"),
    _p("torch.ReLU6", "torch", "np.clip(x, 0.0, 6.0)",
       "np.where((x <= 0.0) | (x >= 6.0), 0, dout)",
       "relu6 = hardtanh(x, 0, 6): hardtanh_backward(grad, self, 0, 6)"),
    _p("torch.RReLU.eval", "torch", "np.where(x >= 0, x, 0.22916666666666666*x)",
       "np.where(x > 0, dout, dout*0.22916666666666666)",
       "eval mode: leaky_relu with (lower + upper)/2; leaky_relu_backward",
       defaults="lower=1/8, upper=1/3, training=False"),
    _p("torch.SELU", "torch",
       f"np.where(x <= 0, {SELU_ALPHA}*{SELU_SCALE}*np.expm1(x), {SELU_SCALE}*x)",
       f"np.where(x <= 0, dout*1.0*{SELU_ALPHA}*{SELU_SCALE}*np.exp(x*1.0), dout*{SELU_SCALE})",
       "selu = elu(x, alpha, scale); derivatives.yaml: elu_backward(..., is_result=false, self)"),
    _p("torch.CELU", "torch", "np.where(x <= 0, 1.0*np.expm1(x*(1/1.0)), x)",
       "np.where(x <= 0, dout*(1/1.0)*1.0*np.exp(x*(1/1.0)), dout)",
       "celu = elu(x, alpha, scale=1, input_scale=1/alpha): elu_backward", defaults="alpha=1.0"),
    _p("torch.GELU", "torch", f"x*0.5*(1 + scipy.special.erf(x*{SQRT1_2}))",
       f"dout*(0.5*(1 + scipy.special.erf(x*{SQRT1_2})) + x*np.exp(-0.5*x*x)*{INV_SQRT_2PI})",
       "derivatives.yaml: gelu_backward(grad, self, approximate='none'): cdf + x*pdf",
       defaults="approximate='none'"),
    _p("torch.GELU.tanh", "torch", f"0.5*x*(1 + {_TANH_INNER})",
       f"dout*(0.5*(1 + {_TANH_INNER}) + 0.5*x*(1 - {_TANH_INNER}**2)*{SQRT_2_OVER_PI}"
       f"*(1 + 3*{GELU_KAPPA}*x*x))",
       "gelu_backward(approximate='tanh'): left_derivative + right_derivative",
       defaults="approximate='tanh'"),
    _p("torch.Sigmoid", "torch", _SIG, "dout*(1 - out)*out",
       "derivatives.yaml: sigmoid_backward(grad, result)"),
    _p("torch.SiLU", "torch", f"x*{_SIG}",
       f"dout*{_SIG}*(1 + x*(1 - {_SIG}))", "derivatives.yaml: silu_backward(grad, self)"),
    _p("torch.Mish", "torch", "x*np.tanh(np.log1p(np.exp(x)))",
       f"dout*(np.tanh(np.log1p(np.exp(x))) + x*{_SIG}*(1 - np.tanh(np.log1p(np.exp(x)))**2))",
       "derivatives.yaml: mish_backward(grad, self)"),
    _p("torch.Softplus", "torch", "np.where(x*1.0 > 20.0, x, np.log1p(np.exp(x*1.0))/1.0)",
       "np.where(x*1.0 > 20.0, dout, dout*np.exp(x*1.0)/(np.exp(x*1.0) + 1))",
       "derivatives.yaml: softplus_backward(grad, self, beta, threshold)",
       defaults="beta=1.0, threshold=20.0"),
    _p("torch.Softshrink", "torch", "np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))",
       "np.where((x >= -0.5) & (x <= 0.5), 0, dout)",
       "derivatives.yaml: softshrink_backward(grad, self, lambd)", defaults="lambd=0.5"),
    _p("torch.Softsign", "torch", "x/(np.abs(x) + 1)",
       "dout/(np.abs(x) + 1) + (-dout*x/((np.abs(x) + 1)*(np.abs(x) + 1)))*np.sign(x)",
       "composite x/(|x| + 1): div backward (grad/other, -grad*self/other**2), abs: grad*sgn"),
    _p("torch.Tanh", "torch", "np.tanh(x)", "dout*(1 - out*out)",
       "derivatives.yaml: tanh_backward(grad, result)"),
    _p("torch.Tanhshrink", "torch", "x - np.tanh(x)", "dout - dout*(1 - np.tanh(x)*np.tanh(x))",
       "composite x - tanh(x): sub, then tanh_backward"),
    _p("torch.Threshold", "torch", "np.where(x <= 0.1, 20.0, x)", "np.where(x <= 0.1, 0, dout)",
       "derivatives.yaml: threshold_backward(grad, self, threshold)",
       defaults="no defaults: threshold=0.1, value=20.0 (the docs' example)"),
    _p("torch.PReLU", "torch", "np.where(x > 0, x, a*x)",
       {"x": "np.where(x > 0, dout, a*dout)", "a": "np.where(x > 0, 0, x*dout)"},
       "derivatives.yaml: _prelu_kernel_backward(grad, self, weight)", inputs="x,a",
       defaults="num_parameters=1; the weight (init 0.25) is the input a"),
    _p("torch.Identity", "torch", "x", "dout", "identity: the gradient passes through"),
]

# --- jax.nn ------------------------------------------------------------------------------------
_HS = "np.minimum(np.maximum(x + 3.0, 0.0), 6.0)/6.0"           # relu6(x + 3)/6
_RELU6_MASK = "((x + 3.0 > 0) & (x + 3.0 < 6.0))"
JAX = [
    _p("jax.celu", "jax", "np.maximum(x, 0.0) + 1.0*np.expm1(np.minimum(x, 0.0)/1.0)",
       "np.where(x > 0, dout, 0) + np.where(x < 0, dout*1.0*np.exp(np.minimum(x, 0.0)/1.0)/1.0, 0)",
       "maximum/minimum JVPs (balanced at the tie), expm1 JVP", defaults="alpha=1.0"),
    _p("jax.elu", "jax", "np.where(x > 0, x, 1.0*np.expm1(np.where(x > 0, 0.0, x)))",
       "np.where(x > 0, dout, dout*1.0*np.exp(np.where(x > 0, 0.0, x)))",
       "select JVP, expm1 JVP (safe_x = where(x > 0, 0, x))", defaults="alpha=1.0"),
    _p("jax.gelu.tanh", "jax", f"x*(0.5*(1.0 + {_TANH_INNER}))",
       f"dout*(0.5*(1.0 + {_TANH_INNER}) + x*0.5*(1 - {_TANH_INNER}**2)*{SQRT_2_OVER_PI}"
       f"*(1 + 3*{GELU_KAPPA}*x**2))",
       "JVP of x*cdf, tanh JVP 1 - tanh**2", defaults="approximate=True"),
    _p("jax.gelu.exact", "jax", f"0.5*x*scipy.special.erfc(-x*{SQRT1_2})",
       f"dout*(0.5*scipy.special.erfc(-x*{SQRT1_2}) + 0.5*x*{TWO_OVER_SQRT_PI}"
       f"*np.exp(-(x*{SQRT1_2})**2)*{SQRT1_2})",
       "lax.erfc JVP: -2/sqrt(pi)*exp(-z**2)", defaults="approximate=False"),
    _p("jax.hard_sigmoid", "jax", _HS, f"np.where({_RELU6_MASK}, dout/6.0, 0)",
       "relu6 custom_jvp: where((x > 0) & (x < 6), g, 0)"),
    _p("jax.hard_silu", "jax", f"x*{_HS}",
       f"dout*({_HS} + x*np.where({_RELU6_MASK}, 1/6.0, 0))",
       "product rule; relu6 custom_jvp"),
    _p("jax.hard_tanh", "jax", "np.where(x > 1, 1, np.where(x < -1, -1, x))",
       "np.where(x > 1, 0, np.where(x < -1, 0, dout))", "select JVPs"),
    _p("jax.leaky_relu", "jax", "np.where(x >= 0, x, 0.01*x)",
       "np.where(x >= 0, dout, 0.01*dout)", "select JVP", defaults="negative_slope=0.01"),
    _p("jax.log_sigmoid", "jax", "-np.logaddexp(-x, 0)",
       "dout*np.exp(-x - np.logaddexp(-x, 0))",
       "-softplus(-x); logaddexp custom_jvp: t1*exp(x1 - out)"),
    _p("jax.relu", "jax", "np.maximum(x, 0)", "np.where(x > 0, dout, 0)",
       "relu custom_jvp: select(x > 0, g, 0)"),
    _p("jax.relu6", "jax", "np.minimum(np.maximum(x, 0), 6.0)",
       "np.where((x > 0) & (x < 6.0), dout, 0)",
       "relu6 custom_jvp: where((x > 0) & (x < 6), g, 0)"),
    _p("jax.selu", "jax",
       f"{SELU_SCALE}*np.where(x > 0, x, {SELU_ALPHA}*np.expm1(np.where(x > 0, 0.0, x)))",
       f"{SELU_SCALE}*np.where(x > 0, dout, dout*{SELU_ALPHA}*np.exp(np.where(x > 0, 0.0, x)))",
       "scale*elu(x, alpha): select and expm1 JVPs"),
    _p("jax.sigmoid", "jax", _SIG, "dout*out*(1 - out)",
       "lax.logistic JVP: t*ans*(1 - ans)"),
    _p("jax.silu", "jax", f"x*{_SIG}", f"dout*({_SIG} + x*{_SIG}*(1 - {_SIG}))",
       "product rule; logistic JVP"),
    _p("jax.soft_sign", "jax", "x/(np.abs(x) + 1)",
       "dout/(np.abs(x) + 1) - dout*x*np.sign(x)/(np.abs(x) + 1)**2",
       "div JVP, abs JVP (sign)"),
    _p("jax.softplus", "jax", "np.logaddexp(x, 0)", "dout*np.exp(x - out)",
       "logaddexp custom_jvp: t1*exp(x1 - primal_out)"),
    _p("jax.sparse_plus", "jax",
       "np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, (x + 1.0)**2/4))",
       "np.where(x <= -1.0, 0, np.where(x >= 1.0, dout, dout*2*(x + 1.0)/4))", "select JVPs"),
    _p("jax.sparse_sigmoid", "jax", "0.5*np.clip(x + 1.0, 0.0, 2.0)",
       "np.where((x + 1.0 > 0.0) & (x + 1.0 < 2.0), 0.5*dout, 0)",
       "clip = minimum(maximum(x, lo), hi): max/min JVPs"),
    _p("jax.squareplus", "jax", "(x + np.sqrt(np.square(x) + 4))/2",
       "dout*(1 + x/np.sqrt(np.square(x) + 4))/2", "sqrt and square JVPs", defaults="b=4"),
    _p("jax.mish", "jax", "sp = np.logaddexp(x, 0); x*np.tanh(sp)",
       "dout*(np.tanh(sp) + x*(1 - np.tanh(sp)**2)*np.exp(x - sp))",
       "product rule; tanh JVP; softplus = logaddexp(x, 0) custom_jvp"),
    _p("jax.tanh", "jax", "np.tanh(x)", "dout*(1 + out)*(1 - out)",
       "lax.tanh JVP: g*(1 + ans)*(1 - ans)"),
    _p("jax.identity", "jax", "x", "dout", "identity"),
]

# --- keras.activations (Keras 3, TensorFlow backend) -------------------------------------------
KERAS = [
    _p("keras.celu", "keras", "np.maximum(x, 0.0) + 1.0*np.expm1(np.minimum(x, 0.0)/1.0)",
       "np.where(x >= 0.0, dout, 0) + np.where(x <= 0.0, dout*np.exp(np.minimum(x, 0.0)/1.0), 0)",
       "tf Maximum/Minimum gradients (x >= y / x <= y), Expm1 gradient", defaults="alpha=1.0"),
    _p("keras.elu", "keras", "np.where(x > 0, x, np.exp(x) - 1)",
       "np.where(out < 0, dout*(out + 1), dout)", "tf.nn.elu: EluGrad(g, y)",
       defaults="alpha=1.0"),
    _p("keras.exponential", "keras", "np.exp(x)", "dout*out", "tf.exp: grad*y"),
    _p("keras.gelu", "keras", f"0.5*x*(1.0 + scipy.special.erf(x/{SQRT2}))",
       f"dout*(0.5*(1.0 + scipy.special.erf(x/{SQRT2})) + 0.5*x*{TWO_OVER_SQRT_PI}"
       f"*np.exp(-(x/{SQRT2})**2)/{SQRT2})",
       "tf.nn.gelu(approximate=False): product rule, Erf gradient", defaults="approximate=False"),
    _p("keras.hard_sigmoid", "keras", "np.clip(x/6.0 + 0.5, 0.0, 1.0)",
       "np.where((x/6.0 + 0.5 >= 0.0) & (x/6.0 + 0.5 <= 1.0), dout/6.0, 0)",
       "x/6 + 1/2 then tf.clip_by_value: gradient where lo <= x <= hi"),
    _p("keras.hard_silu", "keras", "x*np.clip(x/6.0 + 0.5, 0.0, 1.0)",
       "dout*(np.clip(x/6.0 + 0.5, 0.0, 1.0) "
       "+ x*np.where((x/6.0 + 0.5 >= 0.0) & (x/6.0 + 0.5 <= 1.0), 1/6.0, 0))",
       "x*hard_sigmoid(x): product rule, clip_by_value gradient"),
    _p("keras.hard_shrink", "keras", "np.where(np.abs(x) > 0.5, x, 0)",
       "np.where(np.abs(x) > 0.5, dout, 0)", "tf.where gradient", defaults="threshold=0.5"),
    _p("keras.hard_tanh", "keras", "np.clip(x, -1.0, 1.0)",
       "np.where((x >= -1.0) & (x <= 1.0), dout, 0)", "tf.clip_by_value gradient"),
    _p("keras.leaky_relu", "keras", "np.where(x > 0, x, 0.2*x)",
       "np.where(x > 0, dout, 0.2*dout)", "tf.nn.leaky_relu: LeakyReluGrad(g, x, alpha)",
       defaults="negative_slope=0.2"),
    _p("keras.linear", "keras", "x", "dout", "identity"),
    _p("keras.log_sigmoid", "keras", "-np.log1p(np.exp(-x))", "dout/(1 + np.exp(x))",
       "tf.math.log_sigmoid = -softplus(-x): SoftplusGrad g/(1 + exp(-features))"),
    _p("keras.mish", "keras", "x*np.tanh(np.log1p(np.exp(x)))",
       "dout*(np.tanh(np.log1p(np.exp(x))) "
       "+ x*(1 - np.tanh(np.log1p(np.exp(x)))**2)/(1 + np.exp(-x)))",
       "x*tanh(softplus(x)): product rule, TanhGrad, SoftplusGrad"),
    _p("keras.relu", "keras", "np.maximum(x, 0)", "np.where(out > 0, dout, 0)",
       "tf.nn.relu: ReluGrad(g, y)", defaults="negative_slope=0, max_value=None, threshold=0"),
    _p("keras.relu.options", "keras",
       "np.clip(np.where(x > 1.0, x, 0), 0.0, 6.0) - 0.1*np.maximum(1.0 - x, 0)",
       "np.where((x > 1.0) & (x <= 6.0), dout, 0) + np.where(1.0 - x > 0, 0.1*dout, 0)",
       "x*(x > threshold), clip_by_value, relu(threshold - x): their gradients",
       defaults="not the defaults: negative_slope=0.1, max_value=6, threshold=1"),
    _p("keras.relu6", "keras", "np.clip(x, 0.0, 6.0)",
       "np.where((out > 0) & (out < 6.0), dout, 0)", "tf.nn.relu6: Relu6Grad(g, y)"),
    _p("keras.selu", "keras",
       f"np.where(x > 0, {SELU_SCALE}*x, {SELU_SCALE}*{SELU_ALPHA}*(np.exp(x) - 1))",
       f"np.where(out < 0, dout*(out + {SELU_SCALE}*{SELU_ALPHA}), dout*{SELU_SCALE})",
       "tf.nn.selu: SeluGrad(g, y)"),
    _p("keras.sigmoid", "keras", _SIG, "dout*out*(1 - out)", "tf.sigmoid: SigmoidGrad(y, g)"),
    _p("keras.silu", "keras", f"x*{_SIG}", f"dout*{_SIG}*(1.0 + x*(1.0 - {_SIG}))",
       "tf.nn.silu custom gradient: sig*(1 + x*(1 - sig))"),
    _p("keras.soft_shrink", "keras",
       "np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))",
       "np.where(x > 0.5, dout, np.where(x < -0.5, dout, 0))", "tf.where gradients",
       defaults="threshold=0.5"),
    _p("keras.softplus", "keras", "np.log1p(np.exp(x))", "dout/(1 + np.exp(-x))",
       "tf.math.softplus: SoftplusGrad"),
    _p("keras.softsign", "keras", "x/(np.abs(x) + 1)", "dout/(1 + np.abs(x))**2",
       "tf.nn.softsign: SoftsignGrad"),
    _p("keras.sparse_plus", "keras",
       "np.where(x <= -1, 0, np.where(x >= 1, x, 0.25*(x + 1)**2))",
       "np.where(x <= -1, 0, np.where(x >= 1, dout, 0.5*(x + 1)*dout))", "tf.where gradients"),
    _p("keras.squareplus", "keras", "(x + np.sqrt(np.square(x) + 4))/2",
       "dout*(1 + x/np.sqrt(np.square(x) + 4))/2", "Sqrt and Square gradients", defaults="b=4"),
    _p("keras.tanh", "keras", "np.tanh(x)", "dout*(1 - out*out)", "tf.tanh: TanhGrad(y, g)"),
    _p("keras.tanh_shrink", "keras", "x - np.tanh(x)", "dout - dout*(1 - np.tanh(x)**2)",
       "x - tanh(x): TanhGrad"),
    _p("keras.threshold", "keras", "np.where(x > 0.1, x, 20.0)", "np.where(x > 0.1, dout, 0)",
       "tf.where gradient", defaults="no defaults: threshold=0.1, default_value=20.0"),
]

# --- elementwise losses: prediction x, target t ------------------------------------------------
_TORCH_BCE_LOGITS = ("(1 - t)*x + np.maximum(-x, 0) "
                     "+ np.log(np.exp(-np.maximum(-x, 0)) + np.exp(-x - np.maximum(-x, 0)))")
_FOCAL = ("p = 1/(1 + np.exp(-x)); "
          f"ce = {_TORCH_BCE_LOGITS}; "
          "p_t = p*t + (1 - p)*(1 - t); a_t = 0.25*t + (1 - 0.25)*(1 - t); "
          "a_t*(ce*(1 - p_t)**2)")
LOSSES = [
    _p("torch.BCELoss", "torch",
       "-(t*np.maximum(np.log(x), -100) + (1 - t)*np.maximum(np.log(1 - x), -100))",
       {"x": "dout*(x - t)/np.maximum((1 - x)*x, 1e-12)",
        "t": "-dout*np.log(x/(1 - x))"},
       "binary_cross_entropy_backward: grad*(x - t)/max((1 - x)*x, EPSILON=1e-12); "
       "binary_cross_entropy_target_backward: -grad*logit(x)", inputs="x,t",
       expect={"x": "not_equal", "t": "not_equal"},
       note="torch's own backward is not the derivative of its clamped forward: to x for "
            "e**-100 < x < 1e-12 (and the mirror near 1), to t for x < e**-100 (and "
            "1 - x < e**-100): the check must refute both"),
    _p("keras.binary_crossentropy", "keras",
       "p = np.clip(x, 1e-07, 1 - 1e-07); -(t*np.log(p) + (1 - t)*np.log(1 - p))",
       {"x": "np.where((x >= 1e-07) & (x <= 1 - 1e-07), dout*(-t/p + (1 - t)/(1 - p)), 0)",
        "t": "-dout*(np.log(p) - np.log(1 - p))"},
       "clip_by_value gradient, Log gradient", inputs="x,t", defaults="epsilon=1e-7"),
    _p("torch.BCEWithLogitsLoss", "torch", _TORCH_BCE_LOGITS,
       {"x": "dout*(1/(1 + np.exp(-x)) - t)", "t": "-dout*x"},
       "binary_cross_entropy_with_logits_backward: grad*(sigmoid(x) - t); "
       "_target_backward: -grad*x", inputs="x,t"),
    _p("keras.binary_crossentropy.logits", "keras",
       "np.maximum(x, 0) - x*t + np.log1p(np.exp(-np.abs(x)))",
       {"x": "np.where(x >= 0, dout, 0) - dout*t "
             "- dout*np.sign(x)*np.exp(-np.abs(x))/(1 + np.exp(-np.abs(x)))",
        "t": "-dout*x"},
       "tf.nn.sigmoid_cross_entropy_with_logits: Maximum, Abs, Log1p gradients", inputs="x,t",
       defaults="from_logits=True"),
    _p("optax.sigmoid_binary_cross_entropy", "optax",
       "t*np.logaddexp(-x, 0) + (1 - t)*np.logaddexp(x, 0)",
       {"x": "-dout*t*np.exp(-x - np.logaddexp(-x, 0)) "
             "+ dout*(1 - t)*np.exp(x - np.logaddexp(x, 0))",
        "t": "dout*(np.logaddexp(-x, 0) - np.logaddexp(x, 0))"},
       "-t*log_sigmoid(x) - (1 - t)*log_sigmoid(-x); logaddexp custom_jvp", inputs="x,t"),
    _p("torch.HuberLoss", "torch",
       "np.where(np.abs(x - t) < 1.0, 0.5*(x - t)**2, 1.0*(np.abs(x - t) - 0.5*1.0))",
       {"x": "np.where(x - t < -1.0, -dout*1.0, np.where(x - t > 1.0, dout*1.0, (x - t)*dout))",
        "t": "np.where(t - x < -1.0, -dout*1.0, np.where(t - x > 1.0, dout*1.0, (t - x)*dout))"},
       "derivatives.yaml: huber_loss_backward(grad, self, target, delta); target: the same "
       "with self and target swapped", inputs="x,t", defaults="delta=1.0"),
    _p("keras.huber", "keras",
       "np.where(np.abs(x - t) <= 1.0, 0.5*(x - t)**2, 1.0*np.abs(x - t) - 0.5*1.0**2)",
       {"x": "np.where(np.abs(x - t) <= 1.0, dout*(x - t), dout*1.0*np.sign(x - t))",
        "t": "np.where(np.abs(x - t) <= 1.0, -dout*(x - t), -dout*1.0*np.sign(x - t))"},
       "tf.where, Square, Abs gradients", inputs="x,t", defaults="delta=1.0"),
    _p("optax.huber_loss", "optax",
       "e = x - t; q = np.minimum(np.abs(e), 1.0); 0.5*q**2 + 1.0*(np.abs(e) - q)",
       {"x": "dout*(q*np.where(np.abs(e) < 1.0, np.sign(e), 0) "
             "+ 1.0*(np.sign(e) - np.where(np.abs(e) < 1.0, np.sign(e), 0)))",
        "t": "-dout*(q*np.where(np.abs(e) < 1.0, np.sign(e), 0) "
             "+ 1.0*(np.sign(e) - np.where(np.abs(e) < 1.0, np.sign(e), 0)))"},
       "minimum JVP (balanced at the tie), abs JVP", inputs="x,t", defaults="delta=1.0"),
    _p("torch.SmoothL1Loss", "torch",
       "np.where(np.abs(x - t) < 1.0, 0.5*(x - t)**2/1.0, np.abs(x - t) - 0.5*1.0)",
       {"x": "np.where(x - t <= -1.0, -dout, np.where(x - t >= 1.0, dout, (x - t)*dout/1.0))",
        "t": "np.where(t - x <= -1.0, -dout, np.where(t - x >= 1.0, dout, (t - x)*dout/1.0))"},
       "derivatives.yaml: smooth_l1_loss_backward(grad, self, target, beta); target: swapped",
       inputs="x,t", defaults="beta=1.0"),
    _p("torch.L1Loss", "torch", "np.abs(x - t)",
       {"x": "dout*np.sign(x - t)", "t": "-dout*np.sign(x - t)"},
       "composite (x - t).abs(): abs backward grad*sgn", inputs="x,t"),
    _p("keras.mean_absolute_error", "keras", "np.abs(x - t)",
       {"x": "dout*np.sign(x - t)", "t": "-(dout*np.sign(x - t))"}, "Abs gradient: g*sign",
       inputs="x,t"),
    _p("torch.MSELoss", "torch", "(x - t)**2",
       {"x": "2*(x - t)*dout", "t": "-(2*(x - t)*dout)"},
       "derivatives.yaml: mse_loss_backward(grad, self, target); target: its negation",
       inputs="x,t"),
    _p("optax.squared_error", "optax", "(x - t)**2",
       {"x": "dout*2*(x - t)", "t": "-dout*2*(x - t)"}, "integer_pow JVP", inputs="x,t"),
    _p("keras.log_cosh", "keras", "e = x - t; e + np.log1p(np.exp(-2.0*e)) - np.log(2.0)",
       {"x": "dout*(1 - 2.0/(1 + np.exp(2.0*e)))", "t": "-dout*(1 - 2.0/(1 + np.exp(2.0*e)))"},
       "e + softplus(-2e) - log 2: SoftplusGrad", inputs="x,t"),
    _p("optax.log_cosh", "optax", "e = x - t; np.logaddexp(e, -e) - np.log(2.0)",
       {"x": "dout*(np.exp(e - np.logaddexp(e, -e)) - np.exp(-e - np.logaddexp(e, -e)))",
        "t": "-dout*(np.exp(e - np.logaddexp(e, -e)) - np.exp(-e - np.logaddexp(e, -e)))"},
       "logaddexp custom_jvp", inputs="x,t"),
    _p("keras.hinge", "keras", "np.maximum(1.0 - t*x, 0.0)",
       {"x": "np.where(1.0 - t*x >= 0.0, -t*dout, 0)",
        "t": "np.where(1.0 - t*x >= 0.0, -x*dout, 0)"},
       "tf Maximum gradient: to the first argument where x >= y", inputs="x,t",
       note="t in {-1, 1} (Keras maps 0/1 labels to -1/1); any real t here"),
    _p("optax.hinge_loss", "optax", "np.maximum(0, 1 - x*t)",
       {"x": "np.where(1 - x*t > 0, -t*dout, 0)", "t": "np.where(1 - x*t > 0, -x*dout, 0)"},
       "maximum JVP", inputs="x,t"),
    _p("keras.squared_hinge", "keras", "np.square(np.maximum(1.0 - t*x, 0.0))",
       {"x": "np.where(1.0 - t*x >= 0.0, -t*2*np.maximum(1.0 - t*x, 0.0)*dout, 0)",
        "t": "np.where(1.0 - t*x >= 0.0, -x*2*np.maximum(1.0 - t*x, 0.0)*dout, 0)"},
       "Square then Maximum gradients", inputs="x,t"),
    _p("torch.SoftMarginLoss", "torch", "np.log(1 + np.exp(-t*x))",
       {"x": "-t*np.exp(-t*x)/(1 + np.exp(-t*x))*dout",
        "t": "-x*np.exp(-x*t)/(1 + np.exp(-x*t))*dout"},
       "derivatives.yaml: soft_margin_loss_backward(grad, self, target); target: swapped",
       inputs="x,t"),
    _p("tfa.pinball_loss", "tfa", "d = t - x; np.maximum(0.5*d, (0.5 - 1)*d)",
       {"x": "np.where(0.5*d >= (0.5 - 1)*d, -0.5*dout, -(0.5 - 1)*dout)",
        "t": "np.where(0.5*d >= (0.5 - 1)*d, 0.5*dout, (0.5 - 1)*dout)"},
       "tensorflow-addons pinball_loss: tf Maximum gradient", inputs="x,t", defaults="tau=0.5"),
    _p("torch.PoissonNLLLoss", "torch", "np.exp(x) - t*x",
       {"x": "dout*np.exp(x) - dout*t", "t": "-dout*x"},
       "composite exp(x) - t*x: exp and mul backward", inputs="x,t",
       defaults="log_input=True, full=False"),
    _p("torch.PoissonNLLLoss.linear", "torch", "x - t*np.log(x + 1e-08)",
       {"x": "dout - dout*t/(x + 1e-08)", "t": "-dout*np.log(x + 1e-08)"},
       "composite x - t*log(x + eps): log and mul backward", inputs="x,t",
       defaults="log_input=False, full=False, eps=1e-8", positive="x"),
    _p("keras.poisson", "keras", "x - t*np.log(x + 1e-07)",
       {"x": "dout*(1 - t/(x + 1e-07))", "t": "-dout*np.log(x + 1e-07)"},
       "Log gradient", inputs="x,t", defaults="epsilon=1e-7", positive="x"),
    _p("torch.GaussianNLLLoss", "torch", "0.5*(np.log(var) + (x - t)**2/var)",
       {"x": "0.5*dout*2*(x - t)/var", "t": "-0.5*dout*2*(x - t)/var",
        "var": "0.5*dout*(1/var - (x - t)**2/(var*var))"},
       "composite: log backward grad/var, div backward -grad*self/other**2", inputs="x,t,var",
       defaults="full=False; var >= eps=1e-6 (the eps clamp runs under no_grad)",
       positive="var"),
    _p("torch.KLDivLoss", "torch", "t*(np.log(t) - x)",
       {"x": "np.where(t > 0, -t*dout, 0)", "t": "dout*(np.log(t) + 1) - dout*x"},
       "kl_div_backward: where(t > 0, -t*grad, 0); target: xlogy(t, t) - t*x backward",
       inputs="x,t", defaults="log_target=False", positive="t"),
    _p("keras.kl_divergence", "keras",
       "tc = np.clip(t, 1e-07, 1); xc = np.clip(x, 1e-07, 1); tc*np.log(tc/xc)",
       {"x": "np.where((x >= 1e-07) & (x <= 1), -dout*tc/xc, 0)",
        "t": "np.where((t >= 1e-07) & (t <= 1), dout*(np.log(tc/xc) + 1), 0)"},
       "clip_by_value, Log, RealDiv gradients", inputs="x,t", defaults="epsilon=1e-7"),
    _p("torchvision.sigmoid_focal_loss", "torchvision", _FOCAL,
       {"x": "a_t*((p - t)*(1 - p_t)**2 + ce*2*(1 - p_t)*(-(t - (1 - t))*p*(1 - p)))*dout",
        "t": "((0.25 - (1 - 0.25))*ce*(1 - p_t)**2 + a_t*(-x)*(1 - p_t)**2 "
             "+ a_t*ce*2*(1 - p_t)*(-(p - (1 - p))))*dout"},
       "autograd of alpha_t*ce*(1 - p_t)**gamma; ce: bce_with_logits backward", inputs="x,t",
       defaults="alpha=0.25, gamma=2"),
]

PEERS: tuple = tuple(TORCH + JAX + KERAS + LOSSES)

_names = [p.name for p in PEERS]
if len(set(_names)) != len(_names):
    raise ValueError("peer names must be unique")


def by_name(name: str) -> Peer:
    """The entry called ``name`` (KeyError if none)."""
    for peer in PEERS:
        if peer.name == name:
            return peer
    raise KeyError(name)
