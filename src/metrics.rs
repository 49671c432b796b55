//! Confusion matrices, accuracy and F1 (scikit-learn's definitions).
