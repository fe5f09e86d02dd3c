"""The models the exercise-sheet tests build sheets from, one copy for every test file."""

RELU = "h_t = \\text{ReLU}(V h_{t-1} + W x_t)\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]\n"

LSTM = r"""g_1 = \sigma(W_1 x_t + U_1 h_{t-1})
g_2 = \sigma(W_2 x_t + U_2 h_{t-1})
g_3 = \sigma(W_3 x_t + U_3 h_{t-1})
\tilde{c}_t = \tanh(W_c x_t + U_c h_{t-1})
c_t = g_2 \circ c_{t-1} + g_3 \circ \tilde{c}_t
h_t = g_1 \circ c_t
W_1 = 0.5, U_1 = 0.1, W_2 = 0.2, U_2 = -0.3, W_3 = 0.4, U_3 = 0.1, W_c = 0.6, U_c = 0.2
h_0 = 0, c_0 = 0, x = [1, 0.5, -0.5]
"""

BIDIRECTIONAL = r"""h^{(t)} = \tanh(W h^{(t-1)} + U x^{(t)} + b)
g^{(t)} = \tanh(R g^{(t+1)} + S x^{(t)} + c)
o^{(t)} = V h^{(t)} + Q g^{(t)} + d
W = 0.5, U = 1, b = 0, R = -0.5, S = 1, c = 0, V = 1, Q = 1, d = 0
h^{(0)} = 0, g^{(4)} = 0, x = [1, 0, -1]
"""

DEEP = r"""H_t^{(0)} = X_t
H_t^{(l)} = \tanh(H_t^{(l-1)} W_{xh}^{(l)} + H_{t-1}^{(l)} W_{hh}^{(l)} + b_h^{(l)})
O_t = H_t^{(L)} W_{hq} + b_q
L = 3, X_t \in \mathbb{R}^{1 \times 5}, H_t^{(l)} \in \mathbb{R}^{1 \times 8}, O_t \in \mathbb{R}^{1 \times 2}
"""

LOSS = r"""a^{(t)} = b + W h^{(t-1)} + U x^{(t)}
h^{(t)} = \tanh(a^{(t)})
o^{(t)} = c + V h^{(t)}
L^{(t)} = \frac{1}{2}(o^{(t)} - y^{(t)})^2
L = \sum_{t} L^{(t)}
W = 0.5, U = 1, b = 0, V = 2, c = 0, h^{(0)} = 0
x = [1, 0], y = [1, 1]
"""

SMALL_VECTORS = r"""h_t = \tanh(W h_{t-1} + U x_t + b)
y_t = V h_t
W = [[0.5, -1], [0, 0.5]], U = [[1, 0], [0.5, 1]], b = [0, 0.1], V = [[1, 2]]
h_0 = [0, 1], x = [[1, -1], [0, 2]]
"""

ENCODER_DECODER = r"""h_t = \tanh(W h_{t-1} + U x_t)              % encoder, t = 1, ..., T
c = h_T                                     % the context: the encoder's last state
s_0 = \tanh(D c)
s_t = \tanh(A s_{t-1} + B y_{t-1} + C c)    % decoder, reads the previous target
o_t = E s_t

W = 0.5, U = 1, h_0 = 0, x = [1, -1]
A = 0.5, B = 1, C = 1, D = 1, E = 2
y_0 = 0, y_1 = 1, y_2 = 0
"""

VECTOR_LOSS = r"""h_t = \tanh(W h_{t-1} + U x_t)
o_t = V h_t
L_t = \frac{1}{2} \|o_t - y_t\|^2
L = \sum_t L_t
W = [[0.5, 0], [0.1, 0.5]], U = [[1, 0], [0, 1]], V = [[1, -1]]
h_0 = [0, 0], x = [[1, 0], [0, 1]], y = [[1], [0]]
"""

VECTOR_ENCODER_DECODER = r"""h_t = \tanh(W h_{t-1} + U x_t)
c = h_T
s_0 = \tanh(D c)
s_t = \tanh(A s_{t-1} + B y_{t-1} + C c)
o_t = E s_t
L_t = \frac{1}{2} \|o_t - z_t\|^2
L = \sum_t L_t
W = [[0.5, 0], [0.1, 0.5]], U = [[1, 0], [0, 1]], D = [[1, 0], [0, 1]], A = [[0.5, 0], [0, 0.5]]
B = [[1], [0]], C = [[1, 0.5], [0, 1]], E = [[1, 2]]
h_0 = [0, 0], x = [[1, 0], [0, -1]], y_0 = [0], y_1 = [1], z = [[1], [0]]
"""
