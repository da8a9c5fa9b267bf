// Removed once the project library has sources of its own.
namespace kubabase::project {}
