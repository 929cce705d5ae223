// Imported by every component test: the DOM matchers (toBeDisabled, toHaveAccessibleDescription, ...).
import '@testing-library/jest-dom';
