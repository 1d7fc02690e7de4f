"""`python -m dezero_widget`: the seed's three cases (book step 14), printed."""

import numpy as np

from dezero_widget import Variable
from dezero_widget.functions import add


def main() -> None:
    x = Variable(np.array(3.0), name="x")
    y = add(add(x, x), x)
    y.backward()
    print(f"1. x used three times:        y = x + x + x,  x.grad = {x.grad}")

    x = Variable(np.array(3.0), name="x")
    y = add(x, x)
    y.backward()
    first = x.grad
    y = add(add(x, x), x)
    y.backward()
    print(f"2. reused without cleargrad:  x.grad = {first}, then {x.grad}  (grads accumulate)")

    x = Variable(np.array(3.0), name="x")
    y = add(x, x)
    y.backward()
    x.cleargrad()
    y = add(add(x, x), x)
    y.backward()
    print(f"3. with x.cleargrad() between: x.grad = {x.grad}")


if __name__ == "__main__":
    main()
