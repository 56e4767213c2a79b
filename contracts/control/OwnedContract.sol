// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title OwnedContract
/// @notice The smallest Ownable: an `owner()` that can differ from the deployer and can be
/// handed over. The contract-control tests deploy it on a local EVM to prove control by the
/// owner, by the deployer, and by an owner that is itself a contract wallet (EIP-1271).
contract OwnedContract {
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    address public owner;

    constructor(address initialOwner) {
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    function transferOwnership(address newOwner) external {
        require(msg.sender == owner, "only owner");
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }
}
