// The widths Next.js's default image configuration asks for (deviceSizes, then imageSizes), and its
// default quality list. imgedge's /_next/image accepts the same by default (IMGEDGE_NEXT_IMAGE_SIZES);
// 16 is kept from Next.js 15 so sites on either version work.
export const NEXT_DEVICE_SIZES = Object.freeze([640, 750, 828, 1080, 1200, 1920, 2048, 3840]);
export const NEXT_IMAGE_SIZES = Object.freeze([16, 32, 48, 64, 96, 128, 256, 384]);
export const NEXT_SIZES = Object.freeze([...NEXT_DEVICE_SIZES, ...NEXT_IMAGE_SIZES]);
export const NEXT_QUALITIES = Object.freeze([75]);
