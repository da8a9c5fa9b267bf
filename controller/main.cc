// Placeholder until the operator's wiring lands; replaced by the runtime work.
int main() { return 0; }
