"""Side-by-side load benchmarks: imgedge against thumbor, the libvips limit and a bare Starlette endpoint."""
