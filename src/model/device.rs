//! Choosing where the network runs: `auto`, `cpu` or `cuda[:N]`, never silently falling back.
use tch::{Cuda, Device};

/// A device request as the user writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// The first CUDA device when libtorch sees one, else the CPU.
    #[default]
    Auto,
    Cpu,
    Cuda(usize),
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceChoice::Cuda(n)),
                _ => Err(format!("unknown device {s:?}; expected auto, cpu, cuda or cuda:N")),
            },
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChoice::Auto => write!(f, "auto"),
            DeviceChoice::Cpu => write!(f, "cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl DeviceChoice {
    /// The torch device; a CUDA request that libtorch cannot serve is an error.
    pub fn resolve(self) -> Result<Device, String> {
        match self {
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda(n) => {
                if !Cuda::is_available() {
                    return Err(format!(
                        "device cuda:{n} was requested but libtorch sees no CUDA device \
                         (no GPU, no driver, or a CPU-only libtorch); use --device cpu or auto"
                    ));
                }
                let count = Cuda::device_count();
                if n as i64 >= count {
                    return Err(format!("device cuda:{n} was requested but libtorch sees {count} CUDA device(s)"));
                }
                Ok(Device::Cuda(n))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!("auto".parse(), Ok(DeviceChoice::Auto));
        assert_eq!("CPU".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:2".parse(), Ok(DeviceChoice::Cuda(2)));
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert_eq!(DeviceChoice::Cuda(3).to_string(), "cuda:3");
    }

    #[test]
    fn cpu_and_auto_always_resolve() {
        assert_eq!(DeviceChoice::Cpu.resolve(), Ok(Device::Cpu));
        assert!(DeviceChoice::Auto.resolve().is_ok());
    }

    #[test]
    fn missing_cuda_is_an_error() {
        let n = if Cuda::is_available() { Cuda::device_count() as usize } else { 0 };
        let e = DeviceChoice::Cuda(n).resolve().unwrap_err();
        assert!(e.contains(&format!("cuda:{n}")), "{e}");
    }
}
